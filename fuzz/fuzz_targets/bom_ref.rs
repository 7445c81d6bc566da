#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custodia::fuzzing::bom_ref(data));
