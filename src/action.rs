//! What a key can ask for. Plain data, so that findings (a fix step names the
//! action that performs it) and the app share it without depending on each other.

/// Declares [`Action`] and [`Action::ALL`] from one list, so `ALL` can
/// never miss a variant.
macro_rules! actions {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// Everything a key can ask for, in the table or in a dialog. Which
        /// key asks for it depends on the mode: see `app::keymap`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[doc = $doc])* $name,)*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$name),*];
        }
    };
}

actions! {
    /// Leave conntop.
    Quit,
    /// Stop conntop for the shell (Ctrl-Z); `fg` brings it back.
    Suspend,
    /// Previous row; in a dialog, scroll up a line.
    Up,
    /// Next row; in a dialog, scroll down a line.
    Down,
    /// A page up (rows or dialog text).
    PageUp,
    /// A page down (rows or dialog text).
    PageDown,
    /// First row; in a dialog, the top of the text.
    Top,
    /// Last row; in a dialog, the end of the text.
    Bottom,
    /// Sort by the next column.
    NextSort,
    /// Reverse the sort.
    ReverseSort,
    /// Open the filter prompt.
    Filter,
    /// Clear the filter and the group scope.
    ClearFilter,
    /// Hide or show idle sessions.
    ToggleIdle,
    /// Session detail, or the sessions of the selected group.
    Detail,
    /// Pause or resume the view.
    Pause,
    /// Poll less often: the next refresh interval up.
    IntervalUp,
    /// Poll more often: the next refresh interval down.
    IntervalDown,
    /// The help overlay.
    Help,
    /// The next view: sessions, by user, by host, by db.
    NextView,
    /// The diagnosis dialog.
    Diagnosis,
    /// `KILL CONNECTION` of the selected or tagged sessions (previewed).
    KillConnection,
    /// `KILL QUERY` of the selected or tagged sessions (previewed).
    KillQuery,
    /// Tag or untag the selected session.
    Tag,
    /// Tag every session shown, or untag them all.
    TagAll,
    /// Preview a kill of the sessions idle past the threshold.
    KillIdle,
    /// Preview a `KILL QUERY` of the statements running past the threshold.
    KillLong,
    /// Kill preview: go ahead.
    Confirm,
    /// Kill preview: close it, nothing killed.
    Cancel,
    /// Kill preview: the next rung of the threshold ladder up.
    ThresholdUp,
    /// Kill preview: the next rung of the threshold ladder down.
    ThresholdDown,
    /// Filter prompt: keep the text and close (go-to prompt: go there).
    ApplyFilter,
    /// Filter prompt: clear the text and close (go-to prompt: close).
    ClearInput,
    /// Filter prompt: delete the last character.
    DeleteChar,
    /// Close a dialog.
    Close,
    /// Replay: one sample back.
    StepBack,
    /// Replay: one sample forward.
    StepForward,
    /// Replay: a minute back.
    MinuteBack,
    /// Replay: a minute forward.
    MinuteForward,
    /// Replay: the next event (a threshold crossed, refusals, a finding).
    NextEvent,
    /// Replay: the previous event.
    PreviousEvent,
    /// Replay: play or pause.
    PlayPause,
    /// Replay: play faster.
    Faster,
    /// Replay: play slower.
    Slower,
    /// Replay: the go-to-a-time prompt.
    GoTo,
}
