#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custodia::oci::fuzzing::cosign(data));
