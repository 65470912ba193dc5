import Synchronization
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import RaftStorage

/// `compact` and `adoptSnapshotFile` leave the slow part — syncing the compaction record,
/// deleting segments and old snapshots, syncing the directory — to the store's reclaimer
/// thread. A crash can come at any point of that work: each is recovered from.
final class BackgroundCompactionTests: XCTestCase {
    /// What the reclaimer's hook records or waits on (a class: a hook is an escaping closure).
    private final class Crashes: Sendable { let taken = Mutex<[(String, TemporaryDirectory)]>([]) }
    private final class Gate: Sendable { let open = Atomic<Bool>(false) }

    let options = StorageOptions(segmentBytes: 4096, preallocateSegments: false)

    /// Entries 1...300 (64-byte payloads: about 45 per 4 KiB segment), committed, and a
    /// snapshot at 150.
    private func makeStore(_ directory: TemporaryDirectory) throws -> FileLogStore {
        let store = try FileLogStore.open(directory: directory.path, options: options)
        for first in stride(from: UInt64(1), through: 291, by: 10) {
            try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: first + 9),
                           entries: makeEntries(first...(first + 9), term: 1, payloadBytes: 64))
        }
        try store.saveSnapshot(SnapshotMetadata(index: 150, term: 1, configuration: [1]), data: Array(repeating: 7, count: 1000))
        return store
    }

    /// Copies every file of `directory` into a new temporary directory: the disk as a crash
    /// at this moment would leave it (every earlier step of the reclaimer was synced).
    private static func copy(_ directory: String) -> TemporaryDirectory {
        let copy = TemporaryDirectory()
        for name in (try? FileSystem.list(directory)) ?? [] where name != "LOCK" {
            let bytes = try! readFile(directory + "/" + name)
            try! writeFile(copy.file(name), bytes)
        }
        return copy
    }

    /// Opens a crash copy and checks it holds the log from at most the compaction point on,
    /// every entry through 300, the hard state and the snapshot.
    private func assertRecovers(_ copy: TemporaryDirectory, _ label: String) throws {
        let store = try FileLogStore.open(directory: copy.path, options: options)
        defer { store.close() }
        XCTAssertLessThanOrEqual(store.firstIndex, 151, label)
        XCTAssertEqual(store.lastIndex, 300, label)
        XCTAssertEqual(store.hardState, StoredHardState(term: 1, vote: 1, commit: 300), label)
        XCTAssertEqual(try store.entries(from: 151, to: 301, maxBytes: .max), makeEntries(151...300, term: 1, payloadBytes: 64), label)
        XCTAssertEqual(store.latestSnapshotMetadata?.index, 150, label)
        // The segments left are a run with no gap (recovery would refuse one), from the first.
        let sequences = copy.segmentNames().compactMap { WALFormat.parseSegmentFileName($0)?.seq }
        XCTAssertEqual(sequences, Array(sequences.first!...sequences.last!), label)
    }

    func testACrashAtEveryPointOfABackgroundCompactionRecovers() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory)
        let segmentsBefore = directory.segmentNames()
        let active = store.activeSegment
        let activeSizeBefore = active.size
        let crashes = Crashes()
        store.reclaimer.beforeDeleting.withLock { hook in
            hook = { [path = directory.path] deleting in
                // Every deletion waits for this copy: the disk just before it.
                crashes.taken.withLock { $0.append(("before deleting \(deleting)", BackgroundCompactionTests.copy(path))) }
            }
        }
        let syncs = store.syncCount
        try store.compact(upTo: 150)
        XCTAssertEqual(store.syncCount, syncs, "compact waits for no sync on the caller's thread")
        XCTAssertEqual(store.firstIndex, 151)
        store.reclaimer.waitUntilIdle()
        let gone = Set(segmentsBefore).subtracting(directory.segmentNames())
        XCTAssertGreaterThanOrEqual(gone.count, 2, "compaction made sealed segments obsolete: \(segmentsBefore)")
        let taken = crashes.taken.withLock { $0 }
        XCTAssertEqual(taken.count, gone.count, "a crash point before each deletion")
        // The record lost: the disk before the first deletion, with the active segment cut
        // back to its size before the compaction (the record's bytes never reached it).
        let withoutRecord = TemporaryDirectory()
        let first = try XCTUnwrap(taken.first)
        for name in first.1.names() { try writeFile(withoutRecord.file(name), try readFile(first.1.file(name))) }
        XCTAssertEqual(truncate(withoutRecord.file(active.name), off_t(activeSizeBefore)), 0)
        let afterAll = Self.copy(directory.path)
        store.close()
        for (label, copy) in taken + [("compaction record lost", withoutRecord), ("every deletion done", afterAll)] {
            defer { copy.remove() }
            try assertRecovers(copy, label)
        }
        // The store itself reopens with the log starting after the compaction point.
        let reopened = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(reopened.firstIndex, 151)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(151...300, term: 1, payloadBytes: 64))
        reopened.close()
    }

    func testCloseWaitsForTheQueuedDeletions() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory)
        let gate = Gate()
        store.reclaimer.beforeDeleting.withLock { hook in
            hook = { _ in while !gate.open.load(ordering: .acquiring) { usleep(1_000) } }
        }
        try store.compact(upTo: 150)
        let obsolete = directory.segmentNames().filter { name in !store.segments.contains { $0.name == name } }
        XCTAssertFalse(obsolete.isEmpty)
        // Held up: the obsolete segments are still on disk after compact returned.
        usleep(20_000)
        XCTAssertTrue(Set(directory.segmentNames()).isSuperset(of: obsolete))
        let opener = Thread {
            usleep(50_000)
            gate.open.store(true, ordering: .releasing)
        }
        opener.start()
        store.close()
        XCTAssertTrue(Set(directory.segmentNames()).isDisjoint(with: obsolete), "close waited for the deletions")
    }

    func testAFailedBackgroundDeletionPoisonsTheStore() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory)
        store.reclaimer.beforeDeleting.withLock { hook in
            hook = { path in throw StorageError.io(operation: "unlink (injected)", path: path, errno: EIO) }
        }
        let segmentsBefore = directory.segmentNames()
        try store.compact(upTo: 150)
        store.reclaimer.waitUntilIdle()
        // Nothing after the failed deletion was deleted (no hole), and the store refuses work.
        XCTAssertEqual(directory.segmentNames(), segmentsBefore)
        XCTAssertThrowsError(try store.save(hardState: nil, entries: makeEntries(301...301, term: 1))) { error in
            guard case .poisoned(let cause) = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssert(cause.contains("unlink (injected)"), cause)
        }
        store.close()
        // Reopened, it recovers as after a crash before the deletions.
        let reopened = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(reopened.lastIndex, 300)
        XCTAssertEqual(try reopened.entries(from: 151, to: 301, maxBytes: .max), makeEntries(151...300, term: 1, payloadBytes: 64))
        reopened.close()
    }

    func testAnAdoptedSnapshotRetiresOldOnesInTheBackground() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory)
        for index in [200, 250] as [UInt64] {
            let file = try FileLogStore.writeSnapshotFile(SnapshotMetadata(index: index, term: 1, configuration: [1]),
                                                          data: Array(repeating: UInt8(index % 256), count: 500), directory: directory.path)
            XCTAssertTrue(try store.adoptSnapshotFile(file))
        }
        store.reclaimer.waitUntilIdle()
        XCTAssertEqual(directory.snapshotNames(), [SnapshotFile.fileName(index: 200, term: 1), SnapshotFile.fileName(index: 250, term: 1)])
        store.close()
    }
}
