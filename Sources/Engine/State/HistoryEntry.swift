/// One line of an instance's history, in log order.
public struct HistoryEntry: Sendable, Hashable {
    /// What happened. Later versions add cron fires and timers.
    public enum Kind: String, Sendable, Hashable {
        /// The instance was started (`to` is the initial state).
        case start
        /// The instance moved along `transition` from `from` to `to`.
        case transition
        /// An attempt of one of its hooks ended (`hook` says how); `to` is the instance's state
        /// then, `transition` the transition that recorded the dispatch.
        case hook
    }

    public internal(set) var kind: Kind
    /// The log index of the entry that did it.
    public internal(set) var index: UInt64
    /// The engine clock (leader time, ms since the epoch) when it was applied.
    public internal(set) var timeMillis: Int64
    /// The state before; nil for `start`.
    public internal(set) var from: String?
    /// The state after.
    public internal(set) var to: String
    /// The transition taken; nil for `start`.
    public internal(set) var transition: String?
    /// The request id of the command, when it had one.
    public internal(set) var requestID: String?
    /// The instance's revision after this entry.
    public internal(set) var revision: UInt64
    /// For `hook`: the attempt and its result.
    public internal(set) var hook: HookRunRecord? = nil
    /// For a transition taken by a hook's `on_success` / `on_failure`: `hook <dispatch id>`.
    public internal(set) var cause: String? = nil
}
