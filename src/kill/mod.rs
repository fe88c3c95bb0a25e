//! Killing sessions, in two parts: [`policy`] decides who may be killed
//! (pure: safety rules, target plans, the re-check) and is what the dashboard
//! uses; [`executor`] runs a confirmed batch against a server (re-read, KILL,
//! audit) for the poller and `conntop kill`.

pub mod executor;
pub mod policy;

pub use policy::{
    Pattern, Refusal, Safety, Selection, SkipReason, group_by_account, idle_targets, long_targets,
    meets, recheck, summary, targets, unchanged,
};
