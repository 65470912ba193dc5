/// A bounded window of `append` messages in flight to one follower, each remembered by
/// the last index it carried and its entry bytes. The leader stops sending when the window
/// is full: `capacity` messages, or (checked by the caller against
/// ``RaftConfig/maxInflightBytes``) `bytes` at the byte budget, as etcd-io/raft's
/// `MaxInflightMsgs` and `MaxInflightBytes`.
struct Inflights: Sendable, Hashable {
    private var buffer: [(index: LogIndex, bytes: Int)]
    private var start = 0
    private(set) var count = 0
    /// Entry bytes of the messages in the window.
    private(set) var bytes = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        buffer = Array(repeating: (0, 0), count: capacity)
    }

    var capacity: Int { buffer.count }
    var isFull: Bool { count == buffer.count }

    mutating func add(_ lastIndex: LogIndex, bytes messageBytes: Int = 0) {
        precondition(!isFull, "inflight window overflow")
        buffer[(start + count) % buffer.count] = (lastIndex, messageBytes)
        count += 1
        bytes += messageBytes
    }

    /// Frees every message whose last index is ≤ `index` (acknowledged).
    mutating func free(through index: LogIndex) {
        while count > 0 && buffer[start].index <= index {
            freeFirst()
        }
    }

    mutating func freeFirst() {
        guard count > 0 else { return }
        bytes -= buffer[start].bytes
        start = (start + 1) % buffer.count
        count -= 1
    }

    mutating func reset() {
        start = 0
        count = 0
        bytes = 0
    }

    static func == (lhs: Inflights, rhs: Inflights) -> Bool {
        lhs.count == rhs.count && lhs.bytes == rhs.bytes && lhs.capacity == rhs.capacity
            && (0..<lhs.count).allSatisfy { i in
                lhs.buffer[(lhs.start + i) % lhs.capacity] == rhs.buffer[(rhs.start + i) % rhs.capacity]
            }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(bytes)
        for i in 0..<count {
            let slot = buffer[(start + i) % capacity]
            hasher.combine(slot.index)
            hasher.combine(slot.bytes)
        }
    }
}
