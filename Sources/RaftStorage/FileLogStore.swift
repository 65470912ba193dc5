#if canImport(Glibc)
import Glibc
#endif

/// The durable `RaftLogStore`: a segmented write-ahead log with CRC32C per record, hard
/// state records in the log itself (so entries and hard state share one `fdatasync`),
/// and snapshot files beside it. Format and recovery rules: docs/storage.md.
///
/// ```swift
/// let store = try FileLogStore.open(directory: "data/raft", options: StorageOptions())
/// try store.save(hardState: StoredHardState(term: 2, vote: 1, commit: 0),
///                entries: [StoredEntry(index: 1, term: 2, payload: bytes)])
/// ```
///
/// Not thread-safe and deliberately not `Sendable`: one owner uses it.
public final class FileLogStore: RaftLogStore {
    /// The directory holding segments, snapshots and the lock file.
    public let directory: String
    public let options: StorageOptions
    /// What recovery repaired on `open` (torn tail truncated, corrupt snapshot set aside).
    public internal(set) var recoveryWarnings: [StorageWarning] = []

    public internal(set) var firstIndex: UInt64 = 1
    public internal(set) var lastIndex: UInt64 = 0
    public internal(set) var hardState = StoredHardState.initial
    /// Number of `fdatasync`/`fsync` calls made since `open` (group commit: one per save).
    public internal(set) var syncCount = 0
    /// Called after each data sync of a log file with how long it took, in nanoseconds (the
    /// node's WAL fsync histogram). Directory syncs are not reported. Nil: nobody is told.
    public var syncObserver: ((_ nanos: UInt64) -> Void)?
    /// The active segment holds writes made with `sync: false` that no sync has covered yet.
    /// A later sync of the same file covers them; a segment roll or `close()` syncs first.
    var unsyncedTail = false

    /// Term of the entry at `firstIndex - 1` (compaction or snapshot point).
    var compactTerm: UInt64 = 0
    /// All segment files, by sequence number; the last is the one being appended to.
    var segments: [Segment] = []
    /// One packed `EntryLocation` per entry in `firstIndex ... lastIndex`.
    var locations: [UInt64] = []
    var termRuns = TermRuns()
    var cache: EntryCache
    /// Snapshot files believed intact, oldest first.
    var snapshots: [(metadata: SnapshotMetadata, name: String)] = []
    var encoder = BatchEncoder()
    var poisonCause: String?
    let lock: DirectoryLock
    /// Deletes compacted segments and snapshots past retention on its own thread, so
    /// `compact` and `adoptSnapshotFile` never wait for an unlink or a directory sync.
    let reclaimer: FileReclaimer
    /// Creates the next segment file ahead of time on its own thread, so a roll takes it
    /// with a `rename` instead of a `posix_fallocate` and its sync (docs/storage.md,
    /// "Segment roll"). Started once recovery is done.
    let preparer: SegmentPreparer
    /// Segments made from a prepared file (every roll after `open`, unless it failed).
    var segmentsFromPreparedFiles = 0
    /// Of those, rolls that had to wait for the preparation to finish.
    var rollsWaitingForPreparation = 0
    /// Read-ahead buffer for entries read from disk.
    var readSeq: UInt64 = .max
    var readOffset: UInt64 = 0
    var readBuffer: [UInt8] = []
    static let readAheadBytes = 256 << 10

    /// Test hook: write at most this many bytes of the next write, and never its last
    /// record, then fail as if the process died mid-write.
    var crashAfterBytes: Int?

    init(directory: String, options: StorageOptions, lock: DirectoryLock) {
        self.directory = directory
        self.options = options
        self.lock = lock
        self.cache = EntryCache(bytesMax: options.cacheBytesMax)
        self.reclaimer = FileReclaimer(directory: directory)
        self.preparer = SegmentPreparer(
            directory: directory, preallocateBytes: options.preallocateSegments ? UInt64(options.segmentBytes) : 0)
    }

    /// Opens (creating if needed) the store in `directory` and recovers it: torn tails are
    /// truncated (see `recoveryWarnings`), anything else damaged throws `StorageError`.
    public static func open(directory: String, options: StorageOptions = StorageOptions()) throws -> FileLogStore {
        options.validate()
        try FileSystem.makeDirectory(directory)
        let lock = try DirectoryLock(directory: directory)
        let store = FileLogStore(directory: directory, options: options, lock: lock)
        do {
            try store.recover()
        } catch {
            store.close()
            throw error
        }
        store.preparer.start()
        return store
    }

    /// Releases the files and the directory lock. Nothing needs flushing: every save was
    /// already synced, so closing and crashing are the same to the data.
    public func close() {
        // Deletions still queued finish first: a store opened on this directory next must
        // not see files vanish under it.
        reclaimer.waitUntilIdle()
        // A preparation in flight finishes its current step; its file is removed (recovery
        // would remove it too).
        preparer.cancel()
        if unsyncedTail, let active = segments.last {
            // A clean stop keeps the last unsynced commit index too.
            try? sync(active.file)
            unsyncedTail = false
        }
        for segment in segments { segment.file.close() }
        segments.removeAll()
        lock.release()
        poisonCause = poisonCause ?? "closed"
    }

    deinit {
        reclaimer.waitUntilIdle()
        preparer.cancel()
        for segment in segments { segment.file.close() }
        lock.release()
    }

    public var latestSnapshotMetadata: SnapshotMetadata? { snapshots.last?.metadata }

    var activeSegment: Segment { segments[segments.count - 1] }

    func path(_ name: String) -> String { FileSystem.join(directory, name) }

    func checkUsable() throws {
        if poisonCause == nil, let failure = reclaimer.failure {
            // A compaction record's sync or a deletion failed on the reclaimer's thread.
            poisonCause = "deleting compacted files: \(failure)"
        }
        if let poisonCause { throw StorageError.poisoned(cause: poisonCause) }
    }

    /// Runs a mutation; any failure leaves durability unknown, so the store is poisoned.
    func mutating<T>(_ body: () throws -> T) throws -> T {
        try checkUsable()
        do {
            return try body()
        } catch {
            poisonCause = "\(error)"
            throw error
        }
    }

    func sync(_ file: FileDescriptor) throws {
        guard let syncObserver else {
            try file.dataSync()
            syncCount += 1
            return
        }
        let start = Self.monotonicNanos()
        try file.dataSync()
        syncCount += 1
        syncObserver(Self.monotonicNanos() &- start)
    }

    static func monotonicNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    func syncDirectory() throws {
        try FileSystem.syncDirectory(directory)
        syncCount += 1
    }

    // MARK: - Log

    public func save(hardState newHardState: StoredHardState?, entries: [StoredEntry], sync: Bool) throws {
        try checkUsable()
        if newHardState == nil && entries.isEmpty { return }
        try LogInvariants.checkSave(
            hardState: newHardState, entries: entries,
            before: .init(firstIndex: firstIndex, lastIndex: lastIndex, hardState: hardState),
            options: options, termAt: { self.knownTerm(at: $0) })
        try mutating {
            encoder.reset()
            let rolling = activeSegment.size >= UInt64(options.segmentBytes)
            let newSeq = activeSegment.seq + 1
            if rolling {
                encoder.appendRaw(WALFormat.encodeSegmentHeader(seq: newSeq, firstIndex: lastIndex + 1))
                encoder.appendSegmentStart(
                    firstIndex: lastIndex + 1, compactIndex: firstIndex - 1, compactTerm: compactTerm,
                    hardState: hardState, mode: .continuation)
                encoder.finish(batchFrom: 0)
            }
            let batchFirstRecord = encoder.recordCount
            encoder.append(entries: entries)
            if let newHardState { encoder.append(hardState: newHardState) }
            encoder.finish(batchFrom: batchFirstRecord)

            let segment: Segment
            let writeOffset: UInt64
            if rolling {
                segment = try createSegment(seq: newSeq, firstIndex: lastIndex + 1, contents: encoder.bytes)
                writeOffset = 0
            } else {
                segment = activeSegment
                writeOffset = segment.size
                try write(encoder.bytes, to: segment, at: writeOffset)
                if sync {
                    try self.sync(segment.file)
                    unsyncedTail = false
                } else {
                    unsyncedTail = true
                }
                segment.size += UInt64(encoder.bytes.count)
            }
            // Durable: now, and only now, the new state becomes visible.
            if let first = entries.first {
                if first.index <= lastIndex { truncateInMemory(from: first.index) }
                precondition(first.index == lastIndex + 1, "log: entry \(first.index) does not follow \(lastIndex)")
                let starts = encoder.recordStarts[batchFirstRecord..<(batchFirstRecord + entries.count)]
                locations.append(contentsOf: starts.lazy.map { EntryLocation.pack(seq: segment.seq, offset: writeOffset + UInt64($0)) })
                var previousTerm: UInt64? = nil
                for entry in entries where entry.term != previousTerm {
                    termRuns.append(index: entry.index, term: entry.term)
                    previousTerm = entry.term
                }
                lastIndex = entries[entries.count - 1].index
                segment.noteAppended(first.index)
                segment.noteAppended(lastIndex)
            }
            cache.append(entries)
            if let newHardState { hardState = newHardState }
        }
    }

    /// Writes honouring the crash test hook, which keeps the last record (and so the
    /// batch's end) off the disk.
    func write(_ bytes: [UInt8], to segment: Segment, at offset: UInt64) throws {
        if let limit = crashAfterBytes {
            crashAfterBytes = nil
            let keep = min(limit, encoder.recordStarts.last ?? bytes.count - 1)
            try bytes.withUnsafeBytes { raw in
                try segment.file.writeAll(UnsafeRawBufferPointer(rebasing: raw[0..<keep]), at: offset)
            }
            throw StorageError.io(operation: "pwrite (injected crash)", path: path(segment.name), errno: EIO)
        }
        try segment.file.writeAll(bytes, at: offset)
    }

    /// Creates the next segment with `contents` (header, segment-start record, maybe a
    /// batch), makes it durable (file and directory) and makes it the active one. The
    /// previous active segment is sealed: its preallocated tail is cut off.
    ///
    /// After `open` the file is the one the preparer made ready (waiting for it if it is
    /// still being made), renamed to the segment's name; then the next one is started.
    /// During recovery (no preparation yet) it is created here.
    @discardableResult
    func createSegment(seq: UInt64, firstIndex: UInt64, contents: [UInt8]) throws -> Segment {
        // An unsynced write at the end of the active segment must be durable before any
        // write in the next file is: recovery must never see a later record without it.
        if unsyncedTail, let previous = segments.last {
            try sync(previous.file)
            unsyncedTail = false
        }
        if let previous = segments.last, previous.allocated > previous.size {
            try previous.file.truncate(to: previous.size)
            previous.allocated = previous.size
        }
        let name = WALFormat.segmentFileName(seq: seq, firstIndex: firstIndex)
        let file: FileDescriptor
        var allocated: UInt64 = 0
        let fromPreparer = preparer.isPending
        if let taken = preparer.take() {
            let prepared = try taken.outcome.get()
            let temporary = FileDescriptor(adopting: prepared.fd, path: prepared.path)
            // Renamed before the write: the data sync below then commits the new name with
            // the file's first records (one journal commit on ext4), and the directory sync
            // after it finds little left to do. The name must be durable before this save
            // returns — recovery removes a file still under the temporary name — hence that
            // directory sync (docs/storage.md, "Segment roll").
            try FileSystem.rename(prepared.path, to: path(name))
            file = FileDescriptor(adopting: temporary.release(), path: path(name))
            allocated = prepared.allocatedBytes
            segmentsFromPreparedFiles += 1
            if taken.waited { rollsWaitingForPreparation += 1 }
        } else {
            file = try FileDescriptor(path: path(name), flags: O_RDWR | O_CREAT | O_EXCL)
            if options.preallocateSegments, try file.preallocate(size: UInt64(options.segmentBytes)) {
                allocated = UInt64(options.segmentBytes)
            }
        }
        let segment = Segment(seq: seq, firstIndex: firstIndex, name: name, file: file, size: 0, allocated: allocated)
        segments.append(segment)
        try write(contents, to: segment, at: 0)
        try sync(file)
        try syncDirectory()
        segment.size = UInt64(contents.count)
        segment.allocated = max(segment.allocated, segment.size)
        // The next file is made while this segment fills.
        if fromPreparer { preparer.start() }
        return segment
    }

    func truncateInMemory(from index: UInt64) {
        precondition(index >= firstIndex && index <= lastIndex + 1)
        locations.removeLast(Int(lastIndex + 1 - index))
        termRuns.truncate(from: index)
        lastIndex = index - 1
        for segment in segments.reversed() {
            if segment.hasLiveEntries && segment.liveLast < index { break }
            segment.noteTruncated(from: index)
        }
        cache.truncate(from: index)
    }

    /// The term at `index` if the log knows it (`firstIndex - 1 ... lastIndex`).
    func knownTerm(at index: UInt64) -> UInt64? {
        if index + 1 == firstIndex { return compactTerm }
        guard index >= firstIndex && index <= lastIndex else { return nil }
        return termRuns.term(at: index)
    }

    public func term(at index: UInt64) throws -> UInt64? {
        try checkUsable()
        return knownTerm(at: index)
    }

    public func entries(from: UInt64, to: UInt64, maxBytes: Int) throws -> [StoredEntry] {
        try checkUsable()
        precondition(from <= to, "entries: from \(from) after to \(to)")
        precondition(to <= lastIndex + 1, "entries: to \(to) beyond the last index \(lastIndex)")
        if from < firstIndex { throw StorageError.compacted(index: from, firstIndex: firstIndex) }
        var result: [StoredEntry] = []
        var bytes = 0
        var index = from
        while index < to {
            let entry = try cache.entry(at: index) ?? readEntry(at: index)
            bytes += entry.byteCount
            if !result.isEmpty && bytes > maxBytes { break }
            result.append(entry)
            index += 1
        }
        return result
    }

    func segment(for location: UInt64) -> Segment {
        let first = segments[0].seq & EntryLocation.seqMask
        let k = Int((EntryLocation.seqLow(location) &- first) & EntryLocation.seqMask)
        let segment = segments[k]
        precondition(segment.seq & EntryLocation.seqMask == EntryLocation.seqLow(location), "entry location names a missing segment")
        return segment
    }

    /// Reads an entry's record back from its segment, verifying its checksum and that it
    /// is the entry the in-memory index says it is.
    func readEntry(at index: UInt64) throws -> StoredEntry {
        let location = locations[Int(index - firstIndex)]
        let segment = segment(for: location)
        let offset = EntryLocation.offset(location)
        try fillReadBuffer(segment: segment, offset: offset, count: WALFormat.recordHeaderBytes)
        let bodyLength = readBuffer.withUnsafeBytes { $0.le32(Int(offset - readOffset) + 4) }
        let total = WALFormat.align8(WALFormat.recordHeaderBytes + Int(bodyLength))
        try fillReadBuffer(segment: segment, offset: offset, count: total)
        let start = Int(offset - readOffset)
        return try readBuffer.withUnsafeBytes { raw in
            let end = min(raw.count, start + total)
            let check = WALFormat.checkRecord(raw, at: start, end: end, bodyBytesMax: options.entryPayloadBytesMax + WALFormat.entryBodyFixedBytes)
            guard case let .valid(type, _, body, _) = check, type == .entry else {
                var reason = "not an entry record"
                if case let .invalid(why) = check { reason = why }
                throw StorageError.corruptRecord(file: path(segment.name), offset: offset, reason: "reading entry \(index): \(reason)")
            }
            let entry = StoredEntry(
                index: raw.le64(body.lowerBound), term: raw.le64(body.lowerBound + 8), kind: raw[body.lowerBound + 16],
                payload: Array(raw[(body.lowerBound + WALFormat.entryBodyFixedBytes)..<body.upperBound]))
            precondition(entry.index == index, "read back entry \(entry.index) where \(index) was expected")
            precondition(entry.term == termRuns.term(at: index), "read back entry \(index) with term \(entry.term), expected \(termRuns.term(at: index))")
            return entry
        }
    }

    private func fillReadBuffer(segment: Segment, offset: UInt64, count: Int) throws {
        if readSeq == segment.seq && offset >= readOffset && offset + UInt64(count) <= readOffset + UInt64(readBuffer.count) {
            return
        }
        let length = Int(min(UInt64(max(count, Self.readAheadBytes)), segment.size - min(offset, segment.size)))
        readSeq = .max
        readBuffer = try segment.file.readAll(count: length, at: offset)
        readSeq = segment.seq
        readOffset = offset
    }

    // MARK: - Compaction

    /// Writes a compaction record (not synced here) and forgets entries up to `index`;
    /// sealed segments that hold nothing live any more are handed to the reclaimer, which
    /// syncs the record and then deletes them, oldest first, one durable deletion at a time
    /// (docs/storage.md, "Compaction"). Nothing here waits for the disk: a crash before the
    /// record is durable recovers the log from the previous compaction point, which the
    /// snapshot covers just as well, with every segment still there.
    public func compact(upTo index: UInt64) throws {
        try checkUsable()
        if index < firstIndex { return }
        LogInvariants.checkCompaction(upTo: index, lastIndex: lastIndex, latest: latestSnapshotMetadata)
        let term = knownTerm(at: index)!
        try mutating {
            encoder.reset()
            encoder.appendCompaction(index: index, term: term)
            encoder.finish()
            let segment = activeSegment
            try write(encoder.bytes, to: segment, at: segment.size)
            segment.size += UInt64(encoder.bytes.count)
            // The next sync of this segment (a save, a segment roll, close) covers it.
            unsyncedTail = true
            dropInMemory(upTo: index, term: term)
            var obsolete: [String] = []
            while segments.count > 1, !segments[0].hasLiveEntries || segments[0].liveLast <= index {
                let old = segments.removeFirst()
                old.file.close()
                obsolete.append(path(old.name))
            }
            guard !obsolete.isEmpty else { return }
            // A file description of its own, not a `dup`: an fdatasync error is reported once
            // per open file description, so the reclaimer's sync must not consume one that
            // the owner's next sync of the segment has to see.
            let record = try FileDescriptor(path: path(segment.name), flags: O_RDONLY)
            reclaimer.submit(.segments(recordFile: record.release(), segments: obsolete))
        }
    }

    func dropInMemory(upTo index: UInt64, term: UInt64) {
        let count = Int(min(index, lastIndex) + 1 - firstIndex)
        locations.removeFirst(count)
        if index >= lastIndex { termRuns.removeAll() } else { termRuns.drop(before: index + 1) }
        firstIndex = index + 1
        lastIndex = max(lastIndex, index)
        compactTerm = term
        cache.drop(before: index + 1)
    }

    // MARK: - Snapshots

    public func saveSnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) throws {
        try checkUsable()
        try LogInvariants.checkSnapshot(metadata, dataBytes: data.count, latest: latestSnapshotMetadata, options: options)
        LogInvariants.checkOwnSnapshot(metadata, lastIndex: lastIndex, termAt: { self.knownTerm(at: $0) })
        try mutating { try writeSnapshot(metadata, data: data) }
    }

    /// Writes a snapshot file durably without registering it, so a node can encode and
    /// write a large snapshot on another thread while its loop keeps using the store. Touches
    /// nothing but a new file in `directory`; hand the result to ``adoptSnapshotFile(_:)``.
    /// A crash before adoption leaves a complete snapshot of applied state, which recovery
    /// may use like any other.
    public static func writeSnapshotFile(_ metadata: SnapshotMetadata, data: [UInt8], directory: String) throws -> PreparedSnapshotFile {
        PreparedSnapshotFile(metadata: metadata, name: try SnapshotFile.write(metadata, data: data, directory: directory),
                             dataBytes: data.count)
    }

    /// Registers a snapshot file written by ``writeSnapshotFile(_:data:directory:)`` as the
    /// latest snapshot (the checks of ``saveSnapshot(_:data:)`` apply). Returns false, and
    /// deletes the file, when a newer snapshot was saved or installed meanwhile.
    @discardableResult
    public func adoptSnapshotFile(_ prepared: PreparedSnapshotFile) throws -> Bool {
        try checkUsable()
        if let latest = latestSnapshotMetadata, latest.index >= prepared.metadata.index {
            if !snapshots.contains(where: { $0.name == prepared.name }) { try? FileSystem.remove(path(prepared.name)) }
            return false
        }
        try LogInvariants.checkSnapshot(prepared.metadata, dataBytes: prepared.dataBytes, latest: latestSnapshotMetadata, options: options)
        LogInvariants.checkOwnSnapshot(prepared.metadata, lastIndex: lastIndex, termAt: { self.knownTerm(at: $0) })
        try mutating {
            syncCount += 2
            snapshots.append((prepared.metadata, prepared.name))
            // Older snapshots are deleted off the caller's thread (a big file's unlink takes
            // milliseconds); recovery accepts one still there after a crash.
            while snapshots.count > options.snapshotsRetained {
                reclaimer.submit(.file(path(snapshots.removeFirst().name)))
            }
        }
        return true
    }

    func writeSnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) throws {
        let name = try SnapshotFile.write(metadata, data: data, directory: directory)
        syncCount += 2
        snapshots.append((metadata, name))
        while snapshots.count > options.snapshotsRetained {
            let old = snapshots.removeFirst()
            try FileSystem.remove(path(old.name))
        }
    }

    public func latestSnapshot() throws -> StoredSnapshot? {
        try checkUsable()
        guard let latest = snapshots.last else { return nil }
        return try SnapshotFile.read(path: path(latest.name), options: options)
    }

    public func installSnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) throws {
        try checkUsable()
        try LogInvariants.checkSnapshot(metadata, dataBytes: data.count, latest: latestSnapshotMetadata, options: options)
        LogInvariants.checkInstall(metadata, hardState: hardState)
        try mutating {
            try writeSnapshot(metadata, data: data)
            try resetLog(to: metadata)
        }
    }

    /// Drops the whole log: a new segment starting at `metadata.index + 1` in reset mode,
    /// then the older segments are deleted (recovery ignores segments before a reset).
    func resetLog(to metadata: SnapshotMetadata) throws {
        let seq = (segments.last?.seq ?? 0) + 1
        encoder.reset()
        encoder.appendRaw(WALFormat.encodeSegmentHeader(seq: seq, firstIndex: metadata.index + 1))
        encoder.appendSegmentStart(
            firstIndex: metadata.index + 1, compactIndex: metadata.index, compactTerm: metadata.term,
            hardState: hardState, mode: .reset)
        encoder.finish()
        try createSegment(seq: seq, firstIndex: metadata.index + 1, contents: encoder.bytes)
        let old = segments.dropLast()
        segments.removeFirst(old.count)
        locations.removeAll()
        termRuns.removeAll()
        cache.clear(next: metadata.index + 1)
        firstIndex = metadata.index + 1
        lastIndex = metadata.index
        compactTerm = metadata.term
        for segment in old {
            segment.file.close()
            try FileSystem.remove(path(segment.name))
        }
        if !old.isEmpty { try syncDirectory() }
    }
}

/// A snapshot file written by ``FileLogStore/writeSnapshotFile(_:data:directory:)``,
/// waiting to be adopted.
public struct PreparedSnapshotFile: Sendable, Hashable {
    public var metadata: SnapshotMetadata
    /// The file's name in the store's directory.
    public var name: String
    public var dataBytes: Int

    public init(metadata: SnapshotMetadata, name: String, dataBytes: Int) {
        self.metadata = metadata
        self.name = name
        self.dataBytes = dataBytes
    }
}
