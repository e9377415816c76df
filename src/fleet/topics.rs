//! Topics, all under `<prefix>/<locker id>/`:
//!
//! | topic        | direction | QoS | retained | message                      |
//! |--------------|-----------|-----|----------|------------------------------|
//! | `events`     | out       | 1   | no       | every event, in order by id  |
//! | `state`      | out       | 1   | yes      | counts, alarms, chain head   |
//! | `status`     | out       | 1   | yes      | online; offline as last will |
//! | `heartbeat`  | out       | 0   | no       | alive, with the outbox depth |
//! | `commands`   | in        | 1   | no       | signed commands              |
//! | `responses`  | out       | 1   | no       | one per command              |

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    base: String,
}

impl Topics {
    pub fn new(prefix: &str, locker: &str) -> Topics {
        Topics {
            base: format!("{}/{locker}", prefix.trim_matches('/')),
        }
    }

    pub fn events(&self) -> String {
        format!("{}/events", self.base)
    }
    pub fn state(&self) -> String {
        format!("{}/state", self.base)
    }
    pub fn status(&self) -> String {
        format!("{}/status", self.base)
    }
    pub fn heartbeat(&self) -> String {
        format!("{}/heartbeat", self.base)
    }
    pub fn commands(&self) -> String {
        format!("{}/commands", self.base)
    }
    pub fn responses(&self) -> String {
        format!("{}/responses", self.base)
    }

    /// What `operator watch` subscribes to: every locker's every topic
    /// but the commands.
    pub fn all_lockers(prefix: &str) -> Vec<String> {
        let prefix = prefix.trim_matches('/');
        ["events", "state", "status", "heartbeat", "responses"]
            .iter()
            .map(|t| format!("{prefix}/+/{t}"))
            .collect()
    }
}
