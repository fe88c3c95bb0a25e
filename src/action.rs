//! What a key can ask for. Plain data, so that findings (a fix step names the
//! action that performs it) and the app share it without depending on each other.

/// Everything a key can ask for in the main view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextSort,
    ReverseSort,
    Filter,
    ClearFilter,
    ToggleIdle,
    Detail,
    Pause,
    Help,
    NextView,
    Diagnosis,
    KillConnection,
    KillQuery,
    Tag,
    TagAll,
    KillIdle,
    KillLong,
}
