import XCTest
@testable import RaftStorage

/// Behaviour shared by `FileLogStore` and `MemoryLogStore`: every test runs against both,
/// which keeps the in-memory twin honest.
final class LogStoreBehaviourTests: XCTestCase {
    func testEmptyStoreHasNoEntries() throws {
        try forEachStore { h in
            for _ in 0..<2 {
                XCTAssertEqual(h.store.firstIndex, 1, h.name)
                XCTAssertEqual(h.store.lastIndex, 0, h.name)
                XCTAssertEqual(try h.store.term(at: 0), 0, h.name)
                XCTAssertNil(try h.store.term(at: 1), h.name)
                XCTAssertEqual(h.store.hardState, .initial, h.name)
                XCTAssertNil(try h.store.latestSnapshot(), h.name)
                XCTAssertEqual(try h.store.allEntries(), [], h.name)
                try h.restart()
            }
        }
    }

    func testSavedEntriesAndHardStateSurviveRestart() throws {
        try forEachStore { h in
            let entries = makeEntries(1...20, term: 2)
            try h.store.save(hardState: StoredHardState(term: 2, vote: 3, commit: 5), entries: entries)
            for _ in 0..<2 {
                XCTAssertEqual(try h.store.allEntries(), entries, h.name)
                XCTAssertEqual(h.store.hardState, StoredHardState(term: 2, vote: 3, commit: 5), h.name)
                XCTAssertEqual(try h.store.term(at: 20), 2, h.name)
                XCTAssertNil(try h.store.term(at: 21), h.name)
                try h.restart()
            }
        }
    }

    func testConflictingSuffixIsReplaced() throws {
        try forEachStore { h in
            try h.store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 3), entries: makeEntries(1...10, term: 1))
            let replacement = makeEntries(6...8, term: 2, payloadBytes: 5)
            try h.store.save(hardState: StoredHardState(term: 2, vote: 0, commit: 3), entries: replacement)
            for _ in 0..<2 {
                XCTAssertEqual(h.store.lastIndex, 8, h.name)
                XCTAssertEqual(try h.store.allEntries(), makeEntries(1...5, term: 1) + replacement, h.name)
                XCTAssertEqual(try h.store.term(at: 5), 1, h.name)
                XCTAssertEqual(try h.store.term(at: 6), 2, h.name)
                try h.restart()
            }
            // The log continues after the replaced suffix.
            try h.store.save(hardState: nil, entries: makeEntries(9...9, term: 2))
            try h.restart()
            XCTAssertEqual(h.store.lastIndex, 9, h.name)
        }
    }

    func testTruncationReachingIntoOlderSegmentsSurvivesRestart() throws {
        try forEachStore { h in
            for i in stride(from: UInt64(1), through: 200, by: 10) {
                try h.store.save(hardState: nil, entries: makeEntries(i...(i + 9), term: 1, payloadBytes: 64))
            }
            // Index 50 lies several 4 KiB segments back.
            let replacement = makeEntries(50...60, term: 3, payloadBytes: 8)
            try h.store.save(hardState: StoredHardState(term: 3, vote: 0, commit: 10), entries: replacement)
            for _ in 0..<2 {
                XCTAssertEqual(try h.store.allEntries(), makeEntries(1...49, term: 1, payloadBytes: 64) + replacement, h.name)
                try h.restart()
            }
        }
    }

    func testEntriesStopAtMaxBytesButReturnAtLeastOne() throws {
        try forEachStore { h in
            try h.store.save(hardState: nil, entries: makeEntries(1...10, term: 1, payloadBytes: 100))
            let each = 100 + 17
            XCTAssertEqual(try h.store.entries(from: 1, to: 11, maxBytes: 0).count, 1, h.name)
            XCTAssertEqual(try h.store.entries(from: 1, to: 11, maxBytes: each * 3).count, 3, h.name)
            XCTAssertEqual(try h.store.entries(from: 1, to: 11, maxBytes: each * 3 + 1).count, 3, h.name)
            XCTAssertEqual(try h.store.entries(from: 4, to: 6, maxBytes: .max).map(\.index), [4, 5], h.name)
            XCTAssertEqual(try h.store.entries(from: 4, to: 4, maxBytes: .max), [], h.name)
        }
    }

    func testCompactionDropsThePrefixAndRemembersItsTerm() throws {
        try forEachStore { h in
            try h.store.save(hardState: StoredHardState(term: 2, vote: 1, commit: 100), entries: makeEntries(1...50, term: 1) + makeEntries(51...100, term: 2))
            try h.store.saveSnapshot(SnapshotMetadata(index: 80, term: 2, configuration: [1, 2, 3]), data: [9, 9])
            try h.store.compact(upTo: 60)
            for _ in 0..<2 {
                XCTAssertEqual(h.store.firstIndex, 61, h.name)
                XCTAssertEqual(try h.store.term(at: 60), 2, h.name)
                XCTAssertNil(try h.store.term(at: 59), h.name)
                XCTAssertThrowsError(try h.store.entries(from: 60, to: 70, maxBytes: .max), h.name) { error in
                    XCTAssertEqual(error as? StorageError, .compacted(index: 60, firstIndex: 61))
                }
                XCTAssertEqual(try h.store.allEntries(), makeEntries(61...100, term: 2), h.name)
                XCTAssertEqual(try h.store.latestSnapshot(), StoredSnapshot(metadata: SnapshotMetadata(index: 80, term: 2, configuration: [1, 2, 3]), data: [9, 9]), h.name)
                try h.restart()
            }
            try h.store.compact(upTo: 40)  // already compacted: no-op
            try h.store.compact(upTo: 80)
            try h.restart()
            XCTAssertEqual(h.store.firstIndex, 81, h.name)
            XCTAssertEqual(try h.store.term(at: 80), 2, h.name)
        }
    }

    func testInstallSnapshotDropsTheLog() throws {
        try forEachStore { h in
            try h.store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 5), entries: makeEntries(1...30, term: 1))
            let metadata = SnapshotMetadata(index: 500, term: 4, configuration: [7])
            try h.store.installSnapshot(metadata, data: Array(repeating: 0xAB, count: 1000))
            try h.store.save(hardState: StoredHardState(term: 4, vote: 0, commit: 500), entries: [])
            for _ in 0..<2 {
                XCTAssertEqual(h.store.firstIndex, 501, h.name)
                XCTAssertEqual(h.store.lastIndex, 500, h.name)
                XCTAssertEqual(try h.store.term(at: 500), 4, h.name)
                XCTAssertEqual(try h.store.allEntries(), [], h.name)
                XCTAssertEqual(try h.store.latestSnapshot()?.metadata, metadata, h.name)
                XCTAssertEqual(h.store.hardState.commit, 500, h.name)
                try h.restart()
            }
            try h.store.save(hardState: nil, entries: makeEntries(501...503, term: 4))
            try h.restart()
            XCTAssertEqual(try h.store.allEntries().map(\.index), [501, 502, 503], h.name)
        }
    }

    func testOnlyTheNewestSnapshotsAreKept() throws {
        let options = StorageOptions(segmentBytes: 4096, preallocateSegments: false, cacheBytesMax: 1024, snapshotsRetained: 2)
        try forEachStore(options: options) { h in
            try h.store.save(hardState: StoredHardState(term: 1, vote: 0, commit: 40), entries: makeEntries(1...40, term: 1))
            for index in [10, 20, 30] as [UInt64] {
                try h.store.saveSnapshot(SnapshotMetadata(index: index, term: 1), data: [UInt8(index)])
            }
            XCTAssertThrowsError(try h.store.saveSnapshot(SnapshotMetadata(index: 30, term: 1), data: []), h.name) { error in
                XCTAssertEqual(error as? StorageError, .snapshotOutOfDate(index: 30, latest: 30))
            }
            try h.restart()
            XCTAssertEqual(try h.store.latestSnapshot()?.data, [30], h.name)
        }
        // On disk: exactly two snapshot files.
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: StoredHardState(term: 1, vote: 0, commit: 40), entries: makeEntries(1...40, term: 1))
        for index in [10, 20, 30] as [UInt64] { try store.saveSnapshot(SnapshotMetadata(index: index, term: 1), data: []) }
        XCTAssertEqual(directory.snapshotNames().count, 2)
    }

    func testAHardStateAloneIsSaved() throws {
        try forEachStore { h in
            try h.store.save(hardState: StoredHardState(term: 5, vote: 2, commit: 0), entries: [])
            try h.store.save(hardState: StoredHardState(term: 6, vote: 0, commit: 0), entries: [])
            try h.restart()
            XCTAssertEqual(h.store.hardState, StoredHardState(term: 6, vote: 0, commit: 0), h.name)
        }
    }

    func testATornSaveLeavesThePreviousStateIntact() throws {
        for tornBytes in [0, 13, 40, 100, 300] {
            try forEachStore { h in
                try h.store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 3), entries: makeEntries(1...5, term: 1))
                h.injectTornSave(afterBytes: tornBytes)
                XCTAssertThrowsError(
                    try h.store.save(hardState: StoredHardState(term: 2, vote: 2, commit: 8), entries: makeEntries(4...10, term: 2)), h.name)
                // The store refuses work until restarted.
                XCTAssertThrowsError(try h.store.save(hardState: nil, entries: makeEntries(6...6, term: 1)), h.name)
                try h.restart()
                XCTAssertEqual(h.store.hardState, StoredHardState(term: 1, vote: 1, commit: 3), "\(h.name) torn at \(tornBytes)")
                XCTAssertEqual(try h.store.allEntries(), makeEntries(1...5, term: 1), "\(h.name) torn at \(tornBytes)")
            }
        }
    }

    func testOneSyncPerSaveHoweverManyEntries() throws {
        try forEachStore(options: StorageOptions(preallocateSegments: false)) { h in
            func syncs() -> Int { (h.store as? FileLogStore)?.syncCount ?? (h.store as! MemoryLogStore).syncCount }
            let before = syncs()
            try h.store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 0), entries: makeEntries(1...4096, term: 1, payloadBytes: 128))
            XCTAssertEqual(syncs() - before, 1, h.name)
            try h.store.save(hardState: nil, entries: makeEntries(4097...4097, term: 1))
            XCTAssertEqual(syncs() - before, 2, h.name)
        }
    }

    func testReadsAfterTheCacheIsExhaustedComeFromDisk() throws {
        try forEachStore { h in
            var all: [StoredEntry] = []
            for i in stride(from: UInt64(1), through: 300, by: 3) {
                let batch = makeEntries(i...(i + 2), term: 1 + i / 100, payloadBytes: Int(i % 50))
                try h.store.save(hardState: nil, entries: batch)
                all += batch
            }
            XCTAssertEqual(try h.store.allEntries(), all, h.name)
            var expected: [StoredEntry] = []
            var used = 0
            for entry in all[16..<199] {
                used += entry.byteCount
                if !expected.isEmpty && used > 1000 { break }
                expected.append(entry)
            }
            XCTAssertEqual(try h.store.entries(from: 17, to: 200, maxBytes: 1000), expected, h.name)
        }
    }

    func testLimitsAreEnforced() throws {
        let options = StorageOptions(segmentBytes: 4096, preallocateSegments: false, entryPayloadBytesMax: 100, saveBytesMax: 10_000)
        try forEachStore(options: options) { h in
            XCTAssertThrowsError(try h.store.save(hardState: nil, entries: makeEntries(1...1, term: 1, payloadBytes: 101)), h.name) { error in
                guard case .limitExceeded = error as? StorageError else { return XCTFail("\(error)") }
            }
            XCTAssertThrowsError(try h.store.save(hardState: nil, entries: makeEntries(1...100, term: 1, payloadBytes: 100)), h.name)
            try h.store.save(hardState: nil, entries: makeEntries(1...1, term: 1, payloadBytes: 100))
            XCTAssertEqual(h.store.lastIndex, 1, h.name)
        }
    }
}
