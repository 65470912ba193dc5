import XCTest
@testable import RaftStorage

final class EntryCacheTests: XCTestCase {
    func testCacheStaysWithinItsByteLimitAndKeepsTheNewestEntries() {
        var cache = EntryCache(bytesMax: 1000)
        for i in stride(from: UInt64(1), through: 500, by: 5) {
            cache.append(makeEntries(i...(i + 4), term: 1, payloadBytes: 33))
            XCTAssertLessThanOrEqual(cache.bytes, 1000)
            XCTAssertEqual(cache.endIndex, i + 5)
        }
        XCTAssertEqual(cache.count, 1000 / (33 + 17))
        XCTAssertNil(cache.entry(at: 480))
        XCTAssertEqual(cache.entry(at: 500)?.index, 500)
    }

    func testTruncationAndCompactionKeepTheCacheASuffixOfTheLog() {
        var cache = EntryCache(bytesMax: 10_000)
        cache.append(makeEntries(1...20, term: 1))
        cache.truncate(from: 15)
        XCTAssertEqual(cache.endIndex, 15)
        cache.append(makeEntries(15...16, term: 2))
        XCTAssertEqual(cache.entry(at: 15)?.term, 2)
        cache.drop(before: 10)
        XCTAssertEqual(cache.firstIndex, 10)
        XCTAssertNil(cache.entry(at: 9))
        // A batch that does not follow the cached run restarts the cache.
        cache.append(makeEntries(40...41, term: 3))
        XCTAssertEqual(cache.firstIndex, 40)
        XCTAssertNil(cache.entry(at: 16))
    }

    func testRecentEntriesAreServedWithoutReadingTheDisk() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: StorageOptions(cacheBytesMax: 4096))
        defer { store.close() }
        for i in stride(from: UInt64(1), through: 100, by: 10) {
            try store.save(hardState: nil, entries: makeEntries(i...(i + 9), term: 1, payloadBytes: 100))
        }
        _ = try store.entries(from: 80, to: 101, maxBytes: .max)
        XCTAssertEqual(store.readSeq, .max, "nothing read from disk")
        _ = try store.entries(from: 1, to: 3, maxBytes: .max)
        XCTAssertNotEqual(store.readSeq, .max, "old entries come from disk")
    }
}
