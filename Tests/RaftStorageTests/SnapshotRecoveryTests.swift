import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import RaftStorage

/// Snapshot files: checksum failures, fallback, interrupted installation.
final class SnapshotRecoveryTests: XCTestCase {
    let options = StorageOptions(segmentBytes: 4096, preallocateSegments: false)

    /// A log of 1...100 (term 1, then 2 from 51; segments 1...40, 41...80, 81...100) with
    /// snapshots at 40 and 80.
    func makeStoreWithTwoSnapshots(_ directory: TemporaryDirectory, compactTo: UInt64) throws {
        let store = try FileLogStore.open(directory: directory.path, options: options)
        // Batches of ten 64-byte entries and a hard state: four per 4 KiB segment.
        for first in stride(from: UInt64(1), through: 91, by: 10) {
            try store.save(
                hardState: StoredHardState(term: 2, vote: 1, commit: first + 9),
                entries: makeEntries(first...(first + 9), term: first <= 50 ? 1 : 2, payloadBytes: 64))
        }
        XCTAssertEqual(store.segments.map(\.liveLast), [40, 80, 100])
        try store.saveSnapshot(SnapshotMetadata(index: 40, term: 1, configuration: [1]), data: Array(repeating: 4, count: 5000))
        try store.saveSnapshot(SnapshotMetadata(index: 80, term: 2, configuration: [1, 2]), data: Array(repeating: 8, count: 5000))
        try store.compact(upTo: compactTo)
        store.close()
    }

    func testAnUnsyncedCommitIsSyncedBeforeTheSegmentRollsAndOnClose() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        // 4 KiB segments: fill one with single entries to near its end, then with unsynced
        // commit-only records to past it (a segment rolls at the start of the next save).
        var last: UInt64 = 0
        while store.segments.last!.size + 200 < UInt64(options.segmentBytes) {
            last += 1
            try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: last - 1),
                           entries: makeEntries(last...last, term: 1, payloadBytes: 64))
        }
        while store.segments.last!.size < UInt64(options.segmentBytes) {
            try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: last), entries: [], sync: false)
        }
        XCTAssertEqual(store.segments.count, 1)
        XCTAssertTrue(store.unsyncedTail)
        let syncs = store.syncCount
        // This save starts a new segment: the old one's unsynced commit is synced first.
        try store.save(hardState: nil, entries: makeEntries((last + 1)...(last + 10), term: 1, payloadBytes: 64))
        XCTAssertFalse(store.unsyncedTail)
        XCTAssertGreaterThanOrEqual(store.syncCount - syncs, 2, "the old segment's sync plus the new one's")
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: last + 10), entries: [], sync: false)
        XCTAssertTrue(store.unsyncedTail)
        store.close()
        let reopened = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(reopened.hardState.commit, last + 10, "close synced the last commit index")
        reopened.close()
    }

    func testASnapshotWrittenAheadIsAdoptedOrDiscardedWhenStale() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 30), entries: makeEntries(1...30, term: 1))
        // Written on another thread in a node; nothing changes in the store until adopted.
        let at20 = try FileLogStore.writeSnapshotFile(SnapshotMetadata(index: 20, term: 1, configuration: [1]),
                                                      data: Array(repeating: 2, count: 300), directory: directory.path)
        XCTAssertNil(store.latestSnapshotMetadata)
        XCTAssertTrue(try store.adoptSnapshotFile(at20))
        XCTAssertEqual(try store.latestSnapshot()?.data, Array(repeating: 2, count: 300))
        // A snapshot older than the latest one is refused and its file deleted.
        try store.saveSnapshot(SnapshotMetadata(index: 25, term: 1, configuration: [1]), data: [5])
        let at22 = try FileLogStore.writeSnapshotFile(SnapshotMetadata(index: 22, term: 1, configuration: [1]), data: [7],
                                                      directory: directory.path)
        XCTAssertFalse(try store.adoptSnapshotFile(at22))
        XCTAssertFalse(directory.snapshotNames().contains(at22.name))
        XCTAssertEqual(store.latestSnapshotMetadata?.index, 25)
        store.close()
        // After a restart the adopted snapshots are there as if saved directly.
        let reopened = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(try reopened.latestSnapshot()?.metadata.index, 25)
        reopened.close()
    }

    func testSnapshotChecksumFailureFallsBackToThePreviousOne() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try makeStoreWithTwoSnapshots(directory, compactTo: 30)
        let newest = directory.file(SnapshotFile.fileName(index: 80, term: 2))
        try flipBit(newest, at: 3000)
        let store = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(try store.latestSnapshot()?.metadata, SnapshotMetadata(index: 40, term: 1, configuration: [1]))
        XCTAssertEqual(store.firstIndex, 31)
        XCTAssertEqual(store.recoveryWarnings.count, 1)
        XCTAssert(store.recoveryWarnings[0].message.contains("data checksum mismatch"), "\(store.recoveryWarnings)")
        XCTAssertEqual(store.recoveryWarnings[0].file, newest)
        // The damaged file is kept aside for inspection, not deleted.
        XCTAssert(directory.names().contains(SnapshotFile.fileName(index: 80, term: 2) + ".corrupt"))
        store.close()
    }

    func testFallbackUsesEntriesStillOnDiskAfterCompaction() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Compacted through 45, but the segment holding 41...45 is still there.
        try makeStoreWithTwoSnapshots(directory, compactTo: 45)
        try flipBit(directory.file(SnapshotFile.fileName(index: 80, term: 2)), at: 20)
        let store = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(store.latestSnapshotMetadata?.index, 40)
        XCTAssertEqual(store.firstIndex, 41)
        XCTAssertEqual(try store.allEntries(), makeEntries(41...50, term: 1, payloadBytes: 64) + makeEntries(51...100, term: 2, payloadBytes: 64))
        store.close()
    }

    func testFallbackIsRefusedWhenTheLogNoLongerReachesTheOlderSnapshot() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try makeStoreWithTwoSnapshots(directory, compactTo: 80)
        try flipBit(directory.file(SnapshotFile.fileName(index: 80, term: 2)), at: 3000)
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options)) { error in
            guard case let .snapshotLogGap(_, snapshotIndex, logFirstIndex) = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(snapshotIndex, 40)
            XCTAssertEqual(logFirstIndex, 81)
        }
    }

    func testNoIntactSnapshotLeftRefusesToStart() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try makeStoreWithTwoSnapshots(directory, compactTo: 30)
        try flipBit(directory.file(SnapshotFile.fileName(index: 80, term: 2)), at: 3000)
        try flipBit(directory.file(SnapshotFile.fileName(index: 40, term: 1)), at: 3000)
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options)) { error in
            guard case let .noValidSnapshot(files) = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(files.count, 2)
        }
        // Nothing was moved aside: a second attempt refuses the same way.
        XCTAssertEqual(directory.snapshotNames().count, 2)
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options))
    }

    func testTruncatedSnapshotIsDetected() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try makeStoreWithTwoSnapshots(directory, compactTo: 30)
        let newest = directory.file(SnapshotFile.fileName(index: 80, term: 2))
        let bytes = try readFile(newest)
        for cut in [0, 10, 56, 58, bytes.count - 1] {
            try writeFile(newest, Array(bytes[0..<cut]))
            let store = try FileLogStore.open(directory: directory.path, options: options)
            XCTAssertEqual(store.latestSnapshotMetadata?.index, 40, "cut at \(cut)")
            store.close()
            unlink(newest + ".corrupt")
        }
    }

    func testInterruptedInstallationIsCompletedOnOpen() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 10), entries: makeEntries(1...20, term: 1))
        store.close()
        // The snapshot file was written, then the process died before the log reset.
        _ = try SnapshotFile.write(SnapshotMetadata(index: 500, term: 3), data: [5], directory: directory.path)
        let reopened = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(reopened.firstIndex, 501)
        XCTAssertEqual(reopened.lastIndex, 500)
        XCTAssertEqual(try reopened.term(at: 500), 3)
        XCTAssertEqual(reopened.recoveryWarnings.count, 1, "\(reopened.recoveryWarnings)")
        reopened.close()
        let again = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(again.recoveryWarnings, [])
        XCTAssertEqual(again.firstIndex, 501)
        again.close()
    }

    func testUnfinishedSnapshotTemporaryFileIsRemoved() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try FileLogStore.open(directory: directory.path, options: options).close()
        try writeFile(directory.file(SnapshotFile.fileName(index: 7, term: 1) + ".tmp"), [1, 2, 3])
        let store = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertNil(store.latestSnapshotMetadata)
        XCTAssertFalse(directory.names().contains { $0.hasSuffix(".tmp") })
        store.close()
    }
}
