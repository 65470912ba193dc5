import Synchronization
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import RaftStorage

/// The next segment file is made ahead of time on the store's preparer thread; a roll
/// renames it. Rolls keep every entry, a crash leaves at most an unused prepared file that
/// recovery removes, a failed preparation is reported at the roll that needed it, and
/// `close` never hangs on one.
final class SegmentPreparationTests: XCTestCase {
    /// What a preparer hook saw (a class: a hook is an escaping closure).
    private final class Probe: Sendable { let entered = Atomic<Int>(0) }

    /// Small segments, preallocated: rolls every few saves, through the preparer.
    let options = StorageOptions(segmentBytes: 4096, preallocateSegments: true, cacheBytesMax: 1024)

    private func save(_ store: FileLogStore, _ range: ClosedRange<UInt64>) throws {
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: range.upperBound),
                       entries: makeEntries(range, term: 1, payloadBytes: 100))
    }

    /// Saves batches of 5 entries until the next save will start a new segment.
    private func fillActiveSegment(_ store: FileLogStore) throws {
        while store.activeSegment.size < UInt64(store.options.segmentBytes) {
            try save(store, (store.lastIndex + 1)...(store.lastIndex + 5))
        }
    }

    /// Blocks until the pending preparation has finished (no time limit: it is the thread's
    /// own work, and a hang is what the test would find).
    private func waitForPreparation(_ store: FileLogStore) {
        while let pending = store.preparer.pending, !pending.isFinished { usleep(1_000) }
    }

    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    private static func copy(_ directory: TemporaryDirectory) throws -> TemporaryDirectory {
        let copy = TemporaryDirectory()
        for name in directory.names() where name != "LOCK" {
            try writeFile(copy.file(name), try readFile(directory.file(name)))
        }
        return copy
    }

    func testARollTakesThePreparedFileAndStartsTheNextOne() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        defer { store.close() }
        try fillActiveSegment(store)
        waitForPreparation(store)
        let prepared = try XCTUnwrap(Self.inode(directory.file(SegmentPreparer.fileName)), "prepared at open")
        let syncs = store.syncCount
        try save(store, (store.lastIndex + 1)...(store.lastIndex + 5))
        XCTAssertEqual(store.segments.count, 2)
        XCTAssertEqual(Self.inode(directory.file(store.activeSegment.name)), prepared, "the new segment is the prepared file, renamed")
        XCTAssertEqual(store.activeSegment.allocated, 4096, "preallocated by the preparer")
        XCTAssertEqual(store.segmentsFromPreparedFiles, 1)
        XCTAssertEqual(store.syncCount, syncs + 2, "the roll syncs the new file and the directory, as before")
        XCTAssertTrue(store.preparer.isPending, "the next file is being prepared")
        waitForPreparation(store)
        XCTAssertNotNil(Self.inode(directory.file(SegmentPreparer.fileName)))
    }

    func testRollingManySmallSegmentsKeepsEveryEntryAcrossReopenAndCrash() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var store = try FileLogStore.open(directory: directory.path, options: options)
        for first in stride(from: UInt64(1), through: 1996, by: 5) { try save(store, first...(first + 4)) }
        let segments = directory.segmentNames().count
        XCTAssertGreaterThan(segments, 50)
        XCTAssertEqual(store.segmentsFromPreparedFiles, segments - 1, "every roll took a prepared file")
        let expected = makeEntries(1...2000, term: 1, payloadBytes: 100)

        // A crash now: the image holds the prepared file (ready or half made).
        let crash = try Self.copy(directory)
        defer { crash.remove() }
        store.close()
        XCTAssertFalse(directory.names().contains(SegmentPreparer.fileName), "close removes the unused prepared file")

        for dir in [directory, crash] {
            store = try FileLogStore.open(directory: dir.path, options: options)
            XCTAssertEqual(store.recoveryWarnings, [], dir.path)
            XCTAssertEqual(store.lastIndex, 2000)
            XCTAssertEqual(try store.allEntries(), expected)
            XCTAssertEqual(store.hardState, StoredHardState(term: 1, vote: 1, commit: 2000))
            store.close()
        }
    }

    func testALeftoverPreparedFileIsRemovedOnOpenWithoutAWarning() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var store = try FileLogStore.open(directory: directory.path, options: options)
        try save(store, 1...10)
        store.close()
        // What a crash during a preparation leaves: a file of any size and content.
        try writeFile(directory.file(SegmentPreparer.fileName), [UInt8](repeating: 0xEE, count: 5000))

        store = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(store.recoveryWarnings, [])
        XCTAssertEqual(try store.allEntries(), makeEntries(1...10, term: 1, payloadBytes: 100))
        waitForPreparation(store)
        XCTAssertEqual(try readFile(directory.file(SegmentPreparer.fileName)), [UInt8](repeating: 0, count: 4096),
                       "the leftover was removed and a fresh file prepared")
        // The store goes on rolling into fresh files.
        try fillActiveSegment(store)
        try save(store, (store.lastIndex + 1)...(store.lastIndex + 5))
        XCTAssertEqual(store.segments.count, 2)
        let last = store.lastIndex
        store.close()
        store = try FileLogStore.open(directory: directory.path, options: options)
        defer { store.close() }
        XCTAssertEqual(store.lastIndex, last)
        XCTAssertEqual(try store.allEntries(), makeEntries(1...last, term: 1, payloadBytes: 100))
    }

    func testAFailedPreparationIsReportedAtTheRollThatNeedsIt() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        // The file prepared at open is fine; the one after it fails.
        store.preparer.beforePreparing.withLock { hook in
            hook = { preparation in
                throw StorageError.io(operation: "posix_fallocate", path: preparation.path, errno: ENOSPC)
            }
        }
        try fillActiveSegment(store)
        try save(store, (store.lastIndex + 1)...(store.lastIndex + 5))
        XCTAssertEqual(store.segments.count, 2)
        try fillActiveSegment(store)
        let saved = store.lastIndex

        XCTAssertThrowsError(try save(store, (saved + 1)...(saved + 5))) { error in
            guard case let StorageError.io(operation, path, code) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(operation, "preparing the next segment: posix_fallocate")
            XCTAssertEqual(path, directory.file(SegmentPreparer.fileName))
            XCTAssertEqual(code, ENOSPC)
            XCTAssert("\(error)".contains("No space left on device"), "\(error)")
        }
        XCTAssertEqual(store.lastIndex, saved, "nothing of the failed save is visible")
        XCTAssertThrowsError(try store.term(at: saved)) { error in
            guard case StorageError.poisoned(let cause) = error else { return XCTFail("\(error)") }
            XCTAssert(cause.contains("preparing the next segment"), cause)
        }
        store.close()
        XCTAssertEqual(directory.segmentNames().count, 2, "no segment was started for the failed save")

        let reopened = try FileLogStore.open(directory: directory.path, options: options)
        defer { reopened.close() }
        XCTAssertEqual(reopened.recoveryWarnings, [])
        XCTAssertEqual(reopened.lastIndex, saved)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(1...saved, term: 1, payloadBytes: 100))
    }

    func testARollBeforeTheFileIsReadyWaitsForIt() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        defer { store.close() }
        // The preparation after the first roll holds until the store is waiting for it.
        store.preparer.beforePreparing.withLock { hook in
            hook = { preparation in
                while !preparation.isOwnerWaiting && !preparation.isCancelled { usleep(200) }
            }
        }
        try fillActiveSegment(store)
        try save(store, (store.lastIndex + 1)...(store.lastIndex + 5))
        try fillActiveSegment(store)
        try save(store, (store.lastIndex + 1)...(store.lastIndex + 5))
        XCTAssertEqual(store.segments.count, 3)
        XCTAssertEqual(store.segmentsFromPreparedFiles, 2)
        XCTAssertEqual(store.rollsWaitingForPreparation, 1)
        XCTAssertEqual(try store.allEntries(), makeEntries(1...store.lastIndex, term: 1, payloadBytes: 100))
    }

    func testCloseWithAPreparationInFlightReturnsAndLeavesTheDirectoryRecoverable() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        let probe = Probe()
        // The next preparation stays in flight until the store is closing.
        store.preparer.beforePreparing.withLock { hook in
            hook = { preparation in
                probe.entered.add(1, ordering: .sequentiallyConsistent)
                while !preparation.isCancelled { usleep(200) }
            }
        }
        try fillActiveSegment(store)
        try save(store, (store.lastIndex + 1)...(store.lastIndex + 5))
        while probe.entered.load(ordering: .sequentiallyConsistent) == 0 { usleep(1_000) }
        let last = store.lastIndex
        store.close()
        XCTAssertFalse(directory.names().contains { $0.hasSuffix(".tmp") })

        let reopened = try FileLogStore.open(directory: directory.path, options: options)
        defer { reopened.close() }
        XCTAssertEqual(reopened.recoveryWarnings, [])
        XCTAssertEqual(try reopened.allEntries(), makeEntries(1...last, term: 1, payloadBytes: 100))
    }
}
