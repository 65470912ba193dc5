@testable import Engine
import XCTest

final class ChunkedArrayTests: XCTestCase {
    /// Random appends and front removals against a plain array, across chunk boundaries.
    func testBehavesLikeAnArrayUsedAsAQueue() {
        var rng = SystemRandomNumberGenerator()
        var chunked = ChunkedArray<Int>()
        var model: [Int] = []
        var next = 0
        for step in 0..<20_000 {
            if model.isEmpty || Int.random(in: 0..<3, using: &rng) > 0 {
                chunked.append(next)
                model.append(next)
                next += 1
            } else {
                XCTAssertEqual(chunked.removeFirst(), model.removeFirst())
            }
            if step % 997 == 0 {
                XCTAssertEqual(Array(chunked), model)
                if let probe = model.indices.randomElement(using: &rng) { XCTAssertEqual(chunked[probe], model[probe]) }
            }
            XCTAssertEqual(chunked.count, model.count)
            XCTAssertEqual(chunked.first, model.first)
            XCTAssertEqual(chunked.last, model.last)
        }
        while !model.isEmpty { XCTAssertEqual(chunked.removeFirst(), model.removeFirst()) }
        XCTAssertTrue(chunked.isEmpty)
        chunked.append(7)
        XCTAssertEqual(Array(chunked), [7])
    }

    /// A copy is independent: appending to or removing from one leaves the other as it was.
    func testCopiesDivergeWithoutAffectingEachOther() {
        var original = ChunkedArray(0..<5_000)
        let copy = original
        original.append(5_000)
        _ = original.removeFirst()
        XCTAssertEqual(Array(copy), Array(0..<5_000))
        XCTAssertEqual(Array(original), Array(1...5_000))
        XCTAssertNotEqual(original, copy)
        XCTAssertEqual(copy, ChunkedArray(0..<5_000))
    }
}
