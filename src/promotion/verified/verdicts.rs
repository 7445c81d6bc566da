//! Per-record verdicts of a validation (gates, source paths): a byte a
//! record, the reasons of the few that failed beside them.

use std::collections::HashMap;

/// No verdict yet.
const UNSET: u8 = 0;
const PASSED: u8 = 1;
const FAILED: u8 = 2;

/// One verdict per record of an environment, by position: unset, passed,
/// or failed with a reason.
#[derive(Debug, Clone, Default)]
pub(super) struct Verdicts {
    states: Vec<u8>,
    reasons: HashMap<usize, String>,
}

impl Verdicts {
    /// `len` unset verdicts.
    pub(super) fn unset(len: usize) -> Self {
        Self {
            states: vec![UNSET; len],
            reasons: HashMap::new(),
        }
    }

    /// Adds an unset verdict at the end.
    pub(super) fn push_unset(&mut self) {
        self.states.push(UNSET);
    }

    /// The verdict at `at` (`None`: unset, or no such record).
    pub(super) fn get(&self, at: usize) -> Option<Result<(), String>> {
        match *self.states.get(at)? {
            PASSED => Some(Ok(())),
            FAILED => Some(Err(self
                .reasons
                .get(&at)
                .cloned()
                .unwrap_or_else(|| "rejected".to_owned()))),
            _ => None,
        }
    }

    /// Whether the verdict at `at` is set.
    pub(super) fn is_set(&self, at: usize) -> bool {
        self.states.get(at).is_some_and(|s| *s != UNSET)
    }

    /// Sets the verdict at `at` (nothing past the end).
    pub(super) fn set(&mut self, at: usize, verdict: Result<(), String>) {
        let Some(state) = self.states.get_mut(at) else {
            return;
        };
        match verdict {
            Ok(()) => {
                *state = PASSED;
                self.reasons.remove(&at);
            }
            Err(reason) => {
                *state = FAILED;
                self.reasons.insert(at, reason);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_read_back_and_stay_in_bounds() {
        let mut v = Verdicts::unset(3);
        v.push_unset();
        assert_eq!(v.get(0), None);
        assert!(!v.is_set(3));
        v.set(1, Ok(()));
        v.set(3, Err("no".into()));
        v.set(9, Ok(()));
        assert_eq!(v.get(1), Some(Ok(())));
        assert_eq!(v.get(3), Some(Err("no".into())));
        assert!(v.is_set(3) && !v.is_set(2) && !v.is_set(9));
        v.set(3, Ok(()));
        assert_eq!(v.get(3), Some(Ok(())));
        assert!(v.reasons.is_empty());
    }
}
