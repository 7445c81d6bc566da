#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custodia::fuzzing::store_dir(data));
