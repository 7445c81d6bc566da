#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custodia::pkcs11::fuzz_uri(data));
