import Raft

/// How the virtual network treats each message: the chance it is lost or delivered twice,
/// and the range its delay is drawn from (reordering follows from the spread of delays).
public struct NetworkConditions: Sendable, Hashable {
    /// Chance that a message is lost.
    public var dropProbability: Double
    /// Chance that a message is delivered twice (each copy with its own delay).
    public var duplicateProbability: Double
    /// Shortest delivery delay, in microticks (``Simulation/microticksPerTick`` per tick).
    public var minDelayMicroticks: UInt64
    /// Longest delivery delay, in microticks.
    public var maxDelayMicroticks: UInt64

    public init(dropProbability: Double = 0, duplicateProbability: Double = 0,
                minDelayMicroticks: UInt64 = 20, maxDelayMicroticks: UInt64 = 300) {
        precondition(minDelayMicroticks >= 1 && minDelayMicroticks <= maxDelayMicroticks)
        self.dropProbability = dropProbability
        self.duplicateProbability = duplicateProbability
        self.minDelayMicroticks = minDelayMicroticks
        self.maxDelayMicroticks = maxDelayMicroticks
    }

    /// No loss, no duplicates, sub-tick delays (messages still reorder between pairs).
    public static let reliable = NetworkConditions()
    /// 10% loss, 5% duplicates, delays up to three ticks: heavy reordering.
    public static let unreliable = NetworkConditions(dropProbability: 0.10, duplicateProbability: 0.05,
                                                     minDelayMicroticks: 20, maxDelayMicroticks: 3_000)
    /// Rare loss and duplicates with delays up to one tick.
    public static let flaky = NetworkConditions(dropProbability: 0.02, duplicateProbability: 0.02,
                                                minDelayMicroticks: 20, maxDelayMicroticks: 1_000)
}

/// A directed link between two nodes.
public struct Link: Hashable, Sendable, CustomStringConvertible {
    public var from: NodeID
    public var to: NodeID
    public init(from: NodeID, to: NodeID) {
        self.from = from
        self.to = to
    }
    public var description: String { "\(from)→\(to)" }
}

/// Messages in flight, ordered by delivery time (ties by send order), in a binary heap.
struct InFlightQueue {
    struct Item {
        var time: UInt64
        var sequence: UInt64
        var message: Message
    }
    private var heap: [Item] = []
    private var nextSequence: UInt64 = 0

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    mutating func push(_ message: Message, at time: UInt64) {
        heap.append(Item(time: time, sequence: nextSequence, message: message))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !less(heap[child], heap[parent]) { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest item due strictly before `time`.
    mutating func pop(before time: UInt64) -> Item? {
        guard let first = heap.first, first.time < time else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count && less(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count && less(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }

    /// Every message in flight, in no particular order.
    var messages: [Message] { heap.map(\.message) }

    mutating func removeAll() { heap.removeAll() }

    private func less(_ a: Item, _ b: Item) -> Bool {
        a.time != b.time ? a.time < b.time : a.sequence < b.sequence
    }
}
