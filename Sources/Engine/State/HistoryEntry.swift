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
    public internal(set) var hook: HookRunRecord? {
        get { hookBox?.record }
        set { hookBox = newValue.map(HookBox.init) }
    }
    /// For a transition taken by a hook's `on_success` / `on_failure`: `hook <dispatch id>`.
    public internal(set) var cause: String?
    /// The API token whose request did it (`Command.actor`); nil for the leader's own
    /// services and when authentication is off.
    public internal(set) var actor: String?

    /// The hook record lives behind a reference: most entries have none, and inline it would
    /// more than double every entry (145 of 264 bytes).
    private var hookBox: HookBox?

    init(kind: Kind, index: UInt64, timeMillis: Int64, from: String?, to: String, transition: String?, requestID: String?,
         revision: UInt64, hook: HookRunRecord? = nil, cause: String? = nil, actor: String? = nil) {
        self.kind = kind
        self.index = index
        self.timeMillis = timeMillis
        self.from = from
        self.to = to
        self.transition = transition
        self.requestID = requestID
        self.revision = revision
        self.cause = cause
        self.actor = actor
        self.hookBox = hook.map(HookBox.init)
    }
}

/// An immutable hook record shared by the copies of its history entry.
private final class HookBox: Sendable, Hashable {
    let record: HookRunRecord
    init(_ record: HookRunRecord) { self.record = record }
    static func == (lhs: HookBox, rhs: HookBox) -> Bool { lhs.record == rhs.record }
    func hash(into hasher: inout Hasher) { hasher.combine(record) }
}
