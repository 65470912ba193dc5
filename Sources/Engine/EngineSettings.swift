/// The engine's limits and retention rules.
///
/// These are part of the replicated state machine's definition: every replica of a cluster
/// must run with the same settings, or their states diverge. Change them like code, with
/// every node restarted on the new value.
///
/// ```swift
/// var settings = EngineSettings()
/// settings.requestIDsMax = 1_000_000          // remember more retries
/// let engine = ReplicatedEngine(settings: settings)
/// ```
public struct EngineSettings: Sendable, Hashable {
    /// Most request ids remembered for deduplication; past it the oldest is forgotten first.
    /// Default 100,000.
    public var requestIDsMax: Int
    /// How long a request id is remembered, in the leader's clock (`proposedAtMillis`).
    /// Default 24 hours.
    public var requestIDRetentionMillis: Int64
    /// Most history entries kept per instance unless its workflow says otherwise (`history:
    /// { max_entries }`); past it the oldest are dropped (and counted). Default 10,000.
    public var historyEntriesPerInstanceMax: Int
    /// Most instances the engine holds; starting one more is rejected (`limit_exceeded`).
    /// Default 1,000,000.
    public var instancesMax: Int
    /// Largest instance data, measured in its binary encoding. Default 64 KiB.
    public var instanceDataBytesMax: Int
    /// Most registered workflows (names). Default 10,000.
    public var workflowsMax: Int
    /// Most versions of one workflow. Default 10,000.
    public var versionsPerWorkflowMax: Int
    /// Dispatches that failed for good kept for `GET /v1/dispatches?state=failed` (oldest
    /// dropped first). Default 1,000.
    public var failedDispatchesMax: Int = 1_000

    /// The defaults listed on each field.
    public init(requestIDsMax: Int = 100_000,
                requestIDRetentionMillis: Int64 = 24 * 3_600_000,
                historyEntriesPerInstanceMax: Int = 10_000,
                instancesMax: Int = 1_000_000,
                instanceDataBytesMax: Int = 64 * 1024,
                workflowsMax: Int = 10_000,
                versionsPerWorkflowMax: Int = 10_000) {
        precondition(requestIDsMax >= 0 && requestIDRetentionMillis >= 0 && historyEntriesPerInstanceMax >= 1
                     && instancesMax >= 0 && instanceDataBytesMax >= 1 && workflowsMax >= 0 && versionsPerWorkflowMax >= 1,
                     "EngineSettings: limits must be positive")
        self.requestIDsMax = requestIDsMax
        self.requestIDRetentionMillis = requestIDRetentionMillis
        self.historyEntriesPerInstanceMax = historyEntriesPerInstanceMax
        self.instancesMax = instancesMax
        self.instanceDataBytesMax = instanceDataBytesMax
        self.workflowsMax = workflowsMax
        self.versionsPerWorkflowMax = versionsPerWorkflowMax
    }
}

/// Fixed bounds of the encodings. Unlike `EngineSettings` they are not configurable: a
/// decoder must reject the same inputs on every node and in every version.
public enum EngineLimits {
    /// Deepest JSON nesting in instance data and data patches (an object of scalars is 2).
    public static let jsonDepthMax = 64
    /// Deepest JSON nesting the decoder reads at all (a guard for the stack, above the rule).
    public static let jsonDecodeDepthMax = 128
    /// Longest instance id or request id, in bytes.
    public static let idLengthMax = 128
    /// Longest workflow, state or transition name carried in a command, in bytes.
    public static let nameLengthMax = 256
    /// Largest page `EngineState.instances(…)` returns.
    public static let pageSizeMax = 1_000

    /// True when `id` is a valid instance or request id: `[A-Za-z0-9._:-]{1,128}`.
    public static func isValidID(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard !utf8.isEmpty, utf8.count <= idLengthMax else { return false }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: ":"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return true
    }
}
