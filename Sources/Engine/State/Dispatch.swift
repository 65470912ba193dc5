import Workflow

/// A hook run the engine owes: recorded when the transition (or start) that calls for it is
/// applied, with a deterministic id `<log index>.<hook number>`, and removed when a final
/// result for it is applied. Only the leader runs dispatches; because they live here, a new
/// leader finds every one without a final result and runs it again (at-least-once, with the
/// same id).
///
/// One instance's dispatches run one after another, in the order they were recorded: for
/// one transition the source state's `on_exit` hooks, the transition's `hooks`, the target
/// state's `on_enter` hooks; a later transition's hooks after an earlier one's.
public struct Dispatch: Sendable, Hashable {
    /// Where in the definition the hook is declared.
    public enum Stage: UInt8, Sendable, Hashable {
        /// `on_exit` of the state left (`from`).
        case onExit = 1
        /// The transition's own `hooks`.
        case transition = 2
        /// `on_enter` of the state entered (`to`).
        case onEnter = 3

        /// The YAML key: `on_exit`, `hooks`, `on_enter`.
        public var key: String {
            switch self {
            case .onExit: "on_exit"
            case .transition: "hooks"
            case .onEnter: "on_enter"
            }
        }
    }

    /// `<log index>.<hook number>`, numbered from 1 within the entry.
    public let id: String
    public let instance: String
    public let workflow: String
    /// The workflow version the instance is pinned to (the hook is read from it).
    public let version: Int
    /// The transition that recorded it; nil for the `on_enter` hooks of a start.
    public let transition: String?
    /// The state left; nil for a start.
    public let from: String?
    /// The state entered.
    public let to: String
    public let stage: Stage
    /// The hook's position in its list (0-based).
    public let position: Int
    /// The plugin the hook names.
    public let plugin: String
    /// The log index of the entry that recorded it.
    public let recordedIndex: UInt64
    /// The attempt to run next, from 1.
    public internal(set) var attempt: Int
    /// Engine time (ms since the epoch) from which the next attempt may run.
    public internal(set) var dueAtMillis: Int64
}

/// A dispatch that failed for good (its last attempt failed), kept in a bounded list for
/// `GET /v1/dispatches?state=failed`.
public struct FailedDispatch: Sendable, Hashable {
    public let dispatch: Dispatch
    /// How the last attempt ended.
    public let result: String
    /// The log index of the final result.
    public let index: UInt64
    /// Engine time of the final result.
    public let atMillis: Int64
}
