/// A bounded window of `append` messages in flight to one follower, each remembered by
/// the last index it carried. The leader stops sending when the window is full.
struct Inflights: Sendable, Hashable {
    private var buffer: [LogIndex]
    private var start = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        buffer = Array(repeating: 0, count: capacity)
    }

    var capacity: Int { buffer.count }
    var isFull: Bool { count == buffer.count }

    mutating func add(_ lastIndex: LogIndex) {
        precondition(!isFull, "inflight window overflow")
        buffer[(start + count) % buffer.count] = lastIndex
        count += 1
    }

    /// Frees every message whose last index is ≤ `index` (acknowledged).
    mutating func free(through index: LogIndex) {
        while count > 0 && buffer[start] <= index {
            start = (start + 1) % buffer.count
            count -= 1
        }
    }

    mutating func freeFirst() {
        guard count > 0 else { return }
        start = (start + 1) % buffer.count
        count -= 1
    }

    mutating func reset() {
        start = 0
        count = 0
    }
}
