# The peer side of `cargo bench --bench bundle`: sigstore-python 4.5.1 verifying
# the same three bundles offline (parse + verify per bundle, the Verifier built
# once per trusted root, 300 runs each).
#
#   target/peers-venv/bin/python benches/peers/sigstore_python_bundle.py
#
# (`.ci/run` or ../shared/tools/peers-venv target/peers-venv installs the venv.)
import os, sys, time, warnings, logging
logging.disable(logging.CRITICAL); warnings.filterwarnings("ignore")
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy
T = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "sigstore") + "/"
D = T + "sigstore-conformance/bundle-verify/"
ID = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
pol = policy.Identity(identity=ID, issuer="https://token.actions.githubusercontent.com")
art = open(T + "sigstore-conformance/a.txt", "rb").read()
for name, case, root in [("hashedrekord_v0.3", "happy-path-v0.3", T + "trusted_roots/production.trusted_root.json"),
                         ("dsse_v0.3", "happy-path-intoto-in-dsse-v3", T + "trusted_roots/production.trusted_root.json"),
                         ("rekor2_tsa", "rekor2-happy-path", D + "rekor2-happy-path/trusted_root.json")]:
    v = Verifier(trusted_root=TrustedRoot.from_file(root))
    data = open(D + case + "/bundle.sigstore.json", "rb").read()
    def once():
        b = Bundle.from_json(data)
        if b._dsse_envelope is not None: v.verify_dsse(b, pol)
        else: v.verify_artifact(art, b, pol)
    once()
    n = 300; t = time.perf_counter()
    for _ in range(n): once()
    print(f"{name}: {(time.perf_counter()-t)/n*1e6:.0f} us per bundle (parse + verify)")
