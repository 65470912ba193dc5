/// Instances in start order: append-only, so `createdIndex` increases along it and a
/// cursor is found by binary search.
struct OrderEntry: Sendable, Hashable {
    var createdIndex: UInt64
    var id: String
}
