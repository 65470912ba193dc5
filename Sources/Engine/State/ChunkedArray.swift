/// An array stored as fixed-size chunks: appends at the back, removals from the front,
/// random access — and a copy-on-write copy that stays cheap to diverge from.
///
/// The engine's state is copied in O(1) for a snapshot (copy-on-write) while the node keeps
/// applying. With a plain `Array`, the first append after such a copy duplicates the whole
/// buffer (100,000 request records: tens of milliseconds on the node loop). Here it
/// duplicates the small array of chunk references and the one chunk it writes to.
struct ChunkedArray<Element> {
    /// Elements per chunk. Every chunk but the last holds exactly this many (the first may
    /// have some already removed from its front: `head`).
    static var chunkCapacity: Int { 1024 }

    private var chunks: [[Element]] = []
    /// Elements removed from the front of `chunks[0]`.
    private var head = 0
    private(set) var count = 0

    init() {}

    init<S: Sequence>(_ elements: S) where S.Element == Element {
        for element in elements { append(element) }
    }

    mutating func append(_ element: Element) {
        if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkCapacity {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkCapacity)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    /// Removes the first element (precondition: not empty).
    @discardableResult
    mutating func removeFirst() -> Element {
        precondition(count > 0, "removeFirst on an empty ChunkedArray")
        let element = chunks[0][head]
        head += 1
        count -= 1
        if head == chunks[0].count {
            chunks.removeFirst()   // a few hundred references at most
            head = 0
        }
        return element
    }
}

extension ChunkedArray: RandomAccessCollection {
    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "ChunkedArray index \(position) out of range 0..<\(count)")
        let absolute = head + position
        return chunks[absolute / Self.chunkCapacity][absolute % Self.chunkCapacity]
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}

extension ChunkedArray: Equatable where Element: Equatable {
    static func == (lhs: ChunkedArray, rhs: ChunkedArray) -> Bool { lhs.elementsEqual(rhs) }
}

extension ChunkedArray: Hashable where Element: Hashable {
    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for element in self { hasher.combine(element) }
    }
}
