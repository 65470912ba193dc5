/// One page of `EngineState.instances(…)`.
public struct InstancePage: Sendable, Hashable {
    /// The matching instances, in start order.
    public internal(set) var instances: [Instance]
    /// Pass as `after` for the next page; nil when the listing is complete.
    public internal(set) var nextCursor: UInt64?
}
