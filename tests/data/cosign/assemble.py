#!/usr/bin/env python3
"""Builds the two OCI image layouts in this directory from the upstream files
in upstream/ (see SOURCES.md). Run from this directory; it rewrites
v3-referrer/ and v2-keyless-sig/ and prints their digests. The output is
deterministic: running it again gives the same bytes.

The signed bytes (the bundle, the simple signing payload and its
annotations, the images that were signed) are upstream's, unchanged. What is
assembled here is only the OCI wrapping around them, byte for byte as
cosign writes it (Go's encoding/json field order, sorted map keys, no
spaces):

- v3-referrer/: go-containerregistry's `empty.Image` (the image cosign's
  test signed; its manifest hashes to the statement's subject digest), and
  the referrer manifest cosign v3's `WriteAttestationNewBundleFormat`
  (pkg/oci/remote/write.go) writes for the bundle: empty config `{}` whose
  descriptor carries the artifact type, one layer (the bundle), the
  subject, annotations `dev.sigstore.bundle.content`,
  `dev.sigstore.bundle.predicateType` and `org.opencontainers.image.created`
  (here the bundle's integrated time), and `artifactType`. Listed in
  index.json beside the image, as `oras copy` and custodia write referrers
  (`cosign save` does not list them: sigstore/cosign#4695).
- v2-keyless-sig/: the image containers/image signed (its manifest, as
  upstream has it), and the cosign v2 `.sig` manifest holding the signature
  layer: the simple signing payload and its four annotations, from
  containers/image's copy of the layer; the manifest and its config as
  cosign v2 builds them (go-containerregistry `mutate.Append` onto an OCI
  `empty.Image`), under the tag `sha256-<hex>.sig` as a ref name (what
  `skopeo copy docker://...:sha256-<hex>.sig oci:...` gives).
"""

import base64
import hashlib
import json
import os
import shutil


def go_json(value):
    # Go's encoding/json: no spaces; HTML characters escaped.
    s = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return (
        s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    ).encode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type, data, **extra):
    d = {"mediaType": media_type, "size": len(data), "digest": sha256(data)}
    d.update(extra)
    return d


class Layout:
    def __init__(self, root):
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(root, "blobs", "sha256"))
        self.root = root
        self.manifests = []
        with open(os.path.join(root, "oci-layout"), "wb") as f:
            f.write(b'{"imageLayoutVersion": "1.0.0"}')

    def blob(self, data):
        digest = sha256(data)
        with open(os.path.join(self.root, "blobs", "sha256", digest[7:]), "wb") as f:
            f.write(data)
        return digest

    def entry(self, media_type, data, annotations=None, artifact_type=None):
        self.blob(data)
        d = descriptor(media_type, data)
        if artifact_type:
            d["artifactType"] = artifact_type
        if annotations:
            d["annotations"] = annotations
        self.manifests.append(d)
        return d

    def close(self):
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": self.manifests,
        }
        with open(os.path.join(self.root, "index.json"), "wb") as f:
            f.write(json.dumps(index, indent=3).encode())


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
REF_NAME = "org.opencontainers.image.ref.name"


def v3_referrer():
    bundle = open("upstream/cosign.oci-attestation.sigstore.json", "rb").read()
    statement = json.loads(
        base64.b64decode(json.loads(bundle)["dsseEnvelope"]["payload"])
    )
    entry = json.loads(bundle)["verificationMaterial"]["tlogEntries"][0]
    created = int(entry["integratedTime"])

    # go-containerregistry's empty.Image (pkg/v1/empty/image.go).
    config = (
        b'{"architecture":"","created":"0001-01-01T00:00:00Z","os":"",'
        b'"rootfs":{"type":"layers","diff_ids":null},"config":{}}'
    )
    image = go_json(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": descriptor("application/vnd.docker.container.image.v1+json", config),
            "layers": [],
        }
    )
    assert sha256(image)[7:] == statement["subject"][0]["digest"]["sha256"], "subject"

    empty = b"{}"
    import datetime

    stamp = datetime.datetime.fromtimestamp(created, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    referrer = go_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "size": len(empty),
                "digest": sha256(empty),
                "artifactType": BUNDLE_V03,
            },
            "layers": [descriptor(BUNDLE_V03, bundle)],
            "annotations": {
                "dev.sigstore.bundle.content": "dsse-envelope",
                "dev.sigstore.bundle.predicateType": statement["predicateType"],
                "org.opencontainers.image.created": stamp,
            },
            "subject": descriptor(DOCKER_MANIFEST, image),
            "artifactType": BUNDLE_V03,
        }
    )
    layout = Layout("v3-referrer")
    layout.blob(config)
    layout.blob(empty)
    layout.blob(bundle)
    layout.entry(DOCKER_MANIFEST, image, {REF_NAME: "empty"})
    layout.entry(OCI_MANIFEST, referrer, artifact_type=BUNDLE_V03)
    layout.close()
    print("v3-referrer: image", sha256(image), "referrer", sha256(referrer))


def v2_keyless_sig():
    raw = open("upstream/containers-image.fulcio-rekor.signature-1", "rb").read()
    marker = b"\x00sigstore-json\n"
    assert raw.startswith(marker)
    signature = json.loads(raw[len(marker):])
    payload = base64.b64decode(signature["payload"])
    image = open("upstream/containers-image.fulcio-rekor.manifest.json", "rb").read()
    signed = json.loads(payload)["critical"]["image"]["docker-manifest-digest"]
    assert sha256(image) == signed, "docker-manifest-digest"

    # cosign v2: mutate.Append(empty OCI image, layer with annotations).
    config = go_json(
        {
            "architecture": "",
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [sha256(payload)]},
            "config": {},
        }
    )
    layer = descriptor(signature["mimeType"], payload)
    layer["annotations"] = dict(sorted(signature["annotations"].items()))
    sig = go_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [layer],
        }
    )
    layout = Layout("v2-keyless-sig")
    layout.blob(config)
    layout.blob(payload)
    layout.entry(DOCKER_MANIFEST, image, {REF_NAME: "fulcio-rekor-1"})
    tag = signed.replace(":", "-") + ".sig"
    layout.entry(OCI_MANIFEST, sig, {REF_NAME: tag})
    layout.close()
    print("v2-keyless-sig: image", signed, "sig", sha256(sig))


if __name__ == "__main__":
    v3_referrer()
    v2_keyless_sig()
