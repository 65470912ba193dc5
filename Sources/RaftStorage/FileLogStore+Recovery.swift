#if canImport(Glibc)
import Glibc
#endif

/// Recovery on open (docs/storage.md, "Recovery"): snapshots first (newest intact one
/// wins), then every segment in sequence order, batch by batch, then the checks that
/// the recovered state satisfies what the Raft core relies on.
extension FileLogStore {
    /// The log as replay rebuilds it. A value type, mutated through `inout`, so the
    /// per-record work pays no dynamic exclusivity checks (as class properties would).
    struct ReplayLog {
        var started = false
        var compactIndex: UInt64 = 0
        var compactTerm: UInt64 = 0
        /// Segments before this position in `segments` were superseded by a reset.
        var resetPosition = 0
        /// First index whose location is known (the log may be compacted beyond it).
        var firstIndex: UInt64 = 1
        var lastIndex: UInt64 = 0
        var locations: [UInt64] = []
        var termRuns = TermRuns()
        var hardState = StoredHardState.initial

        mutating func clear(startingAt index: UInt64) {
            locations.removeAll(keepingCapacity: true)
            termRuns.removeAll()
            firstIndex = index
            lastIndex = index - 1
        }
    }

    func recover() throws {
        let names = try FileSystem.list(directory)
        for name in names where name.hasSuffix(".tmp") {
            try FileSystem.remove(path(name))
            // A segment file prepared ahead of a roll that never came is there after every
            // crash; it never held a record, so that is not worth a warning.
            if name == SegmentPreparer.fileName { continue }
            recoveryWarnings.append(StorageWarning(file: path(name), offset: nil, message: "removed an unfinished temporary file"))
        }
        try recoverSnapshots(names)

        let segmentFiles = names.compactMap { name in WALFormat.parseSegmentFileName(name).map { (name: name, seq: $0.seq, firstIndex: $0.firstIndex) } }
            .sorted { $0.seq < $1.seq }
        var log = ReplayLog()
        var buffer: [UInt8] = []
        var offsets: [Int] = []
        if let first = segmentFiles.first { FileDescriptor.adviseWillNeed(path: path(first.name)) }
        for (k, info) in segmentFiles.enumerated() {
            if k + 1 < segmentFiles.count {
                // Let the kernel read the next segment while this one is checksummed.
                FileDescriptor.adviseWillNeed(path: path(segmentFiles[k + 1].name))
            }
            try replaySegment(
                name: info.name, seq: info.seq, firstIndex: info.firstIndex, isNewest: k == segmentFiles.count - 1,
                log: &log, buffer: &buffer, offsets: &offsets)
        }
        buffer = []
        try finishRecovery(log: log)
    }

    // MARK: Snapshots

    func recoverSnapshots(_ names: [String]) throws {
        let files = names.compactMap { name in SnapshotFile.parseFileName(name).map { (name: name, index: $0.index) } }
            .sorted { $0.index < $1.index }
        var intact: [(metadata: SnapshotMetadata, name: String)] = []
        var damaged: [(name: String, error: StorageError)] = []
        var haveNewest = false
        for file in files.reversed() {
            do {
                let metadata: SnapshotMetadata
                if haveNewest {
                    metadata = try SnapshotFile.readMetadata(path: path(file.name), options: options)
                } else {
                    metadata = try SnapshotFile.read(path: path(file.name), options: options).metadata
                    haveNewest = true
                }
                intact.insert((metadata, file.name), at: 0)
            } catch let error as StorageError {
                if case .unsupportedFormatVersion = error { throw error }
                damaged.append((file.name, error))
            }
        }
        if !files.isEmpty && !haveNewest {
            // Refuse, and leave the files as they are for whoever investigates.
            throw StorageError.noValidSnapshot(files: files.map { path($0.name) })
        }
        for (name, error) in damaged {
            let aside = name + ".corrupt"
            try FileSystem.rename(path(name), to: path(aside))
            recoveryWarnings.append(StorageWarning(
                file: path(name), offset: nil,
                message: "snapshot ignored (\(error)); renamed to \(aside), using the previous snapshot"))
        }
        snapshots = intact
    }

    // MARK: Segments

    func replaySegment(
        name: String, seq: UInt64, firstIndex nameFirstIndex: UInt64, isNewest: Bool,
        log: inout ReplayLog, buffer: inout [UInt8], offsets: inout [Int]
    ) throws {
        let filePath = path(name)
        let file = try FileDescriptor(path: filePath, flags: O_RDWR)
        let fileSize = Int(try file.size())
        if buffer.count < fileSize { buffer = [UInt8](repeating: 0, count: fileSize) }
        let read = try buffer.withUnsafeMutableBytes { try file.readAll(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<fileSize]), at: 0) }
        guard read == fileSize else { throw StorageError.io(operation: "read (file shrank during recovery)", path: filePath, errno: EIO) }

        let header = buffer.withUnsafeBytes { WALFormat.decodeSegmentHeader(UnsafeRawBufferPointer(rebasing: $0[0..<min(fileSize, WALFormat.segmentHeaderBytes)])) }
        switch header {
        case let .invalid(reason):
            if isNewest {
                try discardTornSegment(file: file, name: name, reason: "segment header: \(reason)")
                return
            }
            throw StorageError.badSegmentHeader(file: filePath, reason: reason)
        case let .unsupportedVersion(version):
            throw StorageError.unsupportedFormatVersion(file: filePath, version: version, supported: WALFormat.formatVersion)
        case let .valid(headerSeq, headerFirst):
            guard headerSeq == seq, headerFirst == nameFirstIndex else {
                throw StorageError.badSegmentHeader(file: filePath, reason: "header says sequence \(headerSeq) first index \(headerFirst), the file name says \(seq) and \(nameFirstIndex)")
            }
        }

        let segment = Segment(seq: seq, firstIndex: nameFirstIndex, name: name, file: file, size: 0, allocated: UInt64(fileSize))
        let previousSeq = segments.last?.seq
        var batchEnd = WALFormat.segmentHeaderBytes
        var offset = batchEnd
        var sawSegmentStart = false
        var stopReason: String? = nil
        let bodyBytesMax = options.entryPayloadBytesMax + WALFormat.entryBodyFixedBytes

        try buffer.withUnsafeBytes { whole in
            let raw = UnsafeRawBufferPointer(rebasing: whole[0..<fileSize])
            offsets.removeAll(keepingCapacity: true)
            // Pass 1 checks a batch's records; pass 2 (applyBatch) applies it once its end
            // record has been found intact.
            while offset < fileSize {
                let check = WALFormat.checkRecord(raw, at: offset, end: fileSize, bodyBytesMax: bodyBytesMax)
                guard case let .valid(type, flags, _, total) = check else {
                    if case let .invalid(reason) = check { stopReason = reason } else { stopReason = "zero-filled" }
                    break
                }
                let isStart = flags & WALFormat.flagBatchStart != 0
                if offsets.isEmpty != isStart {
                    stopReason = isStart ? "batch starts before the previous one ended" : "record outside a batch"
                    break
                }
                if type == .segmentStart && (sawSegmentStart || !offsets.isEmpty) {
                    throw StorageError.corruptRecord(file: filePath, offset: UInt64(offset), reason: "segment-start record in the middle of a segment")
                }
                if !sawSegmentStart && type != .segmentStart {
                    throw StorageError.corruptRecord(file: filePath, offset: UInt64(offset), reason: "segment does not begin with a segment-start record")
                }
                offsets.append(offset)
                offset += total
                if flags & WALFormat.flagBatchEnd != 0 {
                    if !sawSegmentStart {
                        sawSegmentStart = true
                        segments.append(segment)
                    }
                    try applyBatch(raw, offsets, seq: seq, previousSeq: previousSeq, nameFirstIndex: nameFirstIndex, filePath: filePath, log: &log)
                    offsets.removeAll(keepingCapacity: true)
                    batchEnd = offset
                }
            }

            // Everything after the last complete batch: nothing, zeros, or damage.
            if batchEnd < fileSize && !raw.isZero(batchEnd..<fileSize) {
                let badOffset = offset
                let reason = stopReason ?? "incomplete batch"
                if !isNewest {
                    throw StorageError.corruptRecord(file: filePath, offset: UInt64(badOffset), reason: "\(reason) in a sealed segment")
                }
                if let witness = Self.findBatchStart(raw, from: badOffset, end: fileSize, skip: batchEnd, bodyBytesMax: bodyBytesMax) {
                    throw StorageError.corruptRecord(
                        file: filePath, offset: UInt64(badOffset),
                        reason: "\(reason); an intact batch follows at offset \(witness)")
                }
                recoveryWarnings.append(StorageWarning(
                    file: filePath, offset: UInt64(batchEnd),
                    message: "torn tail truncated: \(fileSize - batchEnd) bytes after the last complete batch (\(reason) at offset \(badOffset))"))
                try file.truncate(to: UInt64(batchEnd))
                try sync(file)
                segment.allocated = UInt64(batchEnd)
            }
        }
        guard sawSegmentStart else {
            if isNewest {
                try discardTornSegment(file: file, name: name, reason: "no complete segment-start record")
                return
            }
            throw StorageError.corruptRecord(file: filePath, offset: UInt64(WALFormat.segmentHeaderBytes), reason: "segment has no segment-start record")
        }
        segment.size = UInt64(batchEnd)
    }

    /// The newest segment was being created when the process died: nothing in it was
    /// ever acknowledged, so it is removed.
    func discardTornSegment(file: FileDescriptor, name: String, reason: String) throws {
        file.close()
        try FileSystem.remove(path(name))
        try syncDirectory()
        recoveryWarnings.append(StorageWarning(file: path(name), offset: 0, message: "removed a segment whose creation was interrupted (\(reason))"))
    }

    /// An intact batch-start record at an 8-aligned offset in `from ..< end` (other than
    /// `skip`, the start of the incomplete batch) proves the damage is not a torn tail:
    /// a batch is only written after the one before it was synced.
    static func findBatchStart(_ raw: UnsafeRawBufferPointer, from: Int, end: Int, skip: Int, bodyBytesMax: Int) -> Int? {
        var p = WALFormat.align8(from)
        while p + WALFormat.recordHeaderBytes <= end {
            defer { p += 8 }
            if p == skip { continue }
            let type = raw[p + 8]
            guard type >= 1 && type <= 4, raw[p + 9] & WALFormat.flagBatchStart != 0 else { continue }
            if case let .valid(_, flags, _, _) = WALFormat.checkRecord(raw, at: p, end: end, bodyBytesMax: bodyBytesMax),
                flags & WALFormat.flagBatchStart != 0
            {
                return p
            }
        }
        return nil
    }

    /// Applies one complete batch (records at `offsets`, already checksummed).
    func applyBatch(
        _ raw: UnsafeRawBufferPointer, _ offsets: [Int], seq: UInt64, previousSeq: UInt64?, nameFirstIndex: UInt64,
        filePath: String, log: inout ReplayLog
    ) throws {
        for recordOffset in offsets {
            let body = recordOffset + WALFormat.recordHeaderBytes
            let offset = UInt64(recordOffset)
            switch WALFormat.RecordType(rawValue: raw[recordOffset + 8])! {
            case .entry:
                let index = raw.le64(body)
                let term = raw.le64(body + 8)
                if index == log.lastIndex + 1 && index > log.firstIndex, let previous = log.termRuns.lastTerm, term >= previous,
                    index > log.compactIndex
                {
                    // The common case: the next entry, same or higher term.
                    log.locations.append(EntryLocation.pack(seq: seq, offset: offset))
                    log.termRuns.append(index: index, term: term)
                    log.lastIndex = index
                    continue
                }
                guard index > log.compactIndex else {
                    throw StorageError.corruptRecord(file: filePath, offset: offset, reason: "entry \(index) at or below the compaction point \(log.compactIndex)")
                }
                guard index <= log.lastIndex + 1 else {
                    throw StorageError.indexGap(file: filePath, offset: offset, expected: log.lastIndex + 1, found: index)
                }
                if index < log.firstIndex {
                    // The log is rewound below the first entry this replay has seen: the
                    // segments holding that prefix were compacted away. Start over here.
                    log.clear(startingAt: index)
                } else if index <= log.lastIndex {
                    // A conflicting suffix was replaced.
                    log.locations.removeLast(Int(log.lastIndex + 1 - index))
                    log.termRuns.truncate(from: index)
                    log.lastIndex = index - 1
                }
                let previousTerm: UInt64? =
                    index > log.firstIndex ? log.termRuns.term(at: index - 1) : (index - 1 == log.compactIndex ? log.compactTerm : nil)
                if let previousTerm, term < previousTerm {
                    throw StorageError.termRegression(file: filePath, offset: offset, index: index, term: term, previousTerm: previousTerm)
                }
                log.locations.append(EntryLocation.pack(seq: seq, offset: offset))
                log.termRuns.append(index: index, term: term)
                log.lastIndex = index

            case .hardState:
                log.hardState = raw.decodeHardState(at: body)

            case .segmentStart:
                let first = raw.le64(body)
                let compactIndex = raw.le64(body + 8)
                let compactTerm = raw.le64(body + 16)
                guard let mode = WALFormat.SegmentMode(rawValue: raw[body + 48]) else {
                    throw StorageError.corruptRecord(file: filePath, offset: offset, reason: "unknown segment mode \(raw[body + 48])")
                }
                guard first == nameFirstIndex else {
                    throw StorageError.badSegmentHeader(file: filePath, reason: "segment-start record says first index \(first), the header \(nameFirstIndex)")
                }
                if mode == .reset || !log.started {
                    guard compactIndex < first else {
                        throw StorageError.corruptRecord(file: filePath, offset: offset, reason: "segment starts at \(first) but says entries through \(compactIndex) are compacted")
                    }
                    if mode == .reset { log.resetPosition = segments.count - 1 }
                    log.clear(startingAt: first)
                    log.compactIndex = compactIndex
                    log.compactTerm = compactTerm
                    log.started = true
                } else {
                    guard let previousSeq, seq == previousSeq + 1 else {
                        throw StorageError.missingSegment(
                            file: filePath, reason: "sequence \((previousSeq ?? 0) + 1) is missing before \(segments.last!.name)")
                    }
                    guard first == log.lastIndex + 1 else {
                        throw StorageError.indexGap(file: filePath, offset: offset, expected: log.lastIndex + 1, found: first)
                    }
                    if compactIndex > log.compactIndex {
                        log.compactIndex = compactIndex
                        log.compactTerm = compactTerm
                    }
                }
                log.hardState = raw.decodeHardState(at: body + 24)

            case .compaction:
                let index = raw.le64(body)
                let term = raw.le64(body + 8)
                guard index >= log.compactIndex, index <= log.lastIndex else {
                    throw StorageError.corruptRecord(
                        file: filePath, offset: offset,
                        reason: "compaction to \(index) outside \(log.compactIndex) ... \(log.lastIndex)")
                }
                if index >= log.firstIndex, log.termRuns.term(at: index) != term {
                    throw StorageError.corruptRecord(
                        file: filePath, offset: offset,
                        reason: "compaction record says term \(term) at \(index), the log has \(log.termRuns.term(at: index))")
                }
                log.compactIndex = index
                log.compactTerm = term
            }
        }
    }

    // MARK: Putting it together

    func finishRecovery(log replayed: ReplayLog) throws {
        var state = replayed
        firstIndex = state.firstIndex
        lastIndex = state.lastIndex
        hardState = state.hardState
        locations = state.locations
        termRuns = state.termRuns
        state.locations = []
        // Segments superseded by a snapshot installation.
        if state.resetPosition > 0 {
            let old = segments[0..<state.resetPosition]
            segments.removeFirst(state.resetPosition)
            for segment in old {
                segment.file.close()
                try FileSystem.remove(path(segment.name))
            }
            try syncDirectory()
        }
        computeLiveRanges()
        let newestSnapshot = snapshots.last
        if segments.isEmpty {
            if let newestSnapshot {
                hardState = StoredHardState.initial
                try resetLog(to: newestSnapshot.metadata)
                recoveryWarnings.append(StorageWarning(file: directory, offset: nil, message: "no log segments: the log starts after snapshot \(newestSnapshot.metadata.index)"))
            } else {
                encoder.reset()
                encoder.appendRaw(WALFormat.encodeSegmentHeader(seq: 1, firstIndex: 1))
                encoder.appendSegmentStart(firstIndex: 1, compactIndex: 0, compactTerm: 0, hardState: .initial, mode: .continuation)
                encoder.finish()
                try createSegment(seq: 1, firstIndex: 1, contents: encoder.bytes)
                firstIndex = 1
                lastIndex = 0
            }
            compactTerm = newestSnapshot?.metadata.term ?? 0
            return try prepareActiveSegment()
        }
        let firstFile = path(segments[0].name)
        if state.compactIndex + 1 < firstIndex {
            throw StorageError.missingSegment(
                file: firstFile,
                reason: "the log is compacted through \(state.compactIndex) but its oldest segment starts at \(firstIndex)")
        }
        var resetTo: SnapshotMetadata? = nil
        if let snapshot = newestSnapshot?.metadata {
            if snapshot.index < state.compactIndex {
                // Fallback to an older snapshot: the log must still hold what follows it.
                let reaches = firstIndex <= snapshot.index + 1
                    && (snapshot.index < firstIndex || termRuns.term(at: snapshot.index) == snapshot.term)
                guard reaches else {
                    throw StorageError.snapshotLogGap(file: path(newestSnapshot!.name), snapshotIndex: snapshot.index, logFirstIndex: state.compactIndex + 1)
                }
                recoveryWarnings.append(StorageWarning(
                    file: path(newestSnapshot!.name), offset: nil,
                    message: "log was compacted through \(state.compactIndex); entries \(snapshot.index + 1) ... \(state.compactIndex) are still on disk and are used with this older snapshot"))
                state.compactIndex = snapshot.index
                state.compactTerm = snapshot.term
            } else {
                let termThere: UInt64? =
                    snapshot.index == state.compactIndex ? state.compactTerm
                    : (snapshot.index >= firstIndex && snapshot.index <= lastIndex ? termRuns.term(at: snapshot.index) : nil)
                if termThere != snapshot.term {
                    resetTo = snapshot
                }
            }
        } else if state.compactIndex > 0 {
            throw StorageError.invariantViolated(file: firstFile, reason: "the log is compacted through \(state.compactIndex) but there is no snapshot")
        }

        // Logically drop what is compacted.
        if state.compactIndex >= firstIndex {
            dropInMemory(upTo: state.compactIndex, term: state.compactTerm)
        } else {
            compactTerm = state.compactTerm
        }
        precondition(firstIndex == state.compactIndex + 1)
        if let resetTo {
            recoveryWarnings.append(StorageWarning(
                file: directory, offset: nil,
                message: "snapshot at index \(resetTo.index) term \(resetTo.term) is not part of the log (last index \(lastIndex)): an installation was interrupted; the log was reset to follow the snapshot"))
            // Installation requires the snapshot to cover the commit index; a commit beyond
            // it means the hard state or the snapshot is not what was written.
            guard hardState.commit <= resetTo.index else {
                throw StorageError.invariantViolated(
                    file: path(snapshots.last!.name),
                    reason: "commit index \(hardState.commit) beyond the snapshot at \(resetTo.index), which is not part of the log")
            }
            try resetLog(to: resetTo)
        }
        try validateRecovered()
        try prepareActiveSegment()
    }

    /// Which live entries each segment holds, from the entry locations.
    func computeLiveRanges() {
        for segment in segments {
            segment.liveFirst = 0
            segment.liveLast = 0
        }
        guard !locations.isEmpty else { return }
        // Live entries are ordered by segment: one run of indexes per segment.
        var k = 0
        var runStart = 0
        locations.withUnsafeBufferPointer { packed in
            for i in 0...packed.count {
                if i < packed.count && (i == runStart || EntryLocation.seqLow(packed[i]) == EntryLocation.seqLow(packed[runStart])) { continue }
                let seqLow = EntryLocation.seqLow(packed[runStart])
                while segments[k].seq & EntryLocation.seqMask != seqLow { k += 1 }
                segments[k].liveFirst = firstIndex + UInt64(runStart)
                segments[k].liveLast = firstIndex + UInt64(i - 1)
                runStart = i
            }
        }
    }

    /// The invariants the Raft core relies on, checked on what was read back.
    func validateRecovered() throws {
        let file = path(activeSegment.name)
        if hardState.commit > lastIndex {
            throw StorageError.invariantViolated(file: file, reason: "commit index \(hardState.commit) beyond the last index \(lastIndex)")
        }
        precondition(locations.count == Int(lastIndex + 1 - firstIndex), "recovery: location index out of step")
        var previous = compactTerm
        for run in termRuns.starts {
            if run.term < previous {
                throw StorageError.invariantViolated(file: file, reason: "term goes back to \(run.term) at index \(run.index)")
            }
            previous = run.term
        }
    }

    func prepareActiveSegment() throws {
        let segment = activeSegment
        if options.preallocateSegments && segment.allocated < UInt64(options.segmentBytes) && segment.size < UInt64(options.segmentBytes) {
            if try segment.file.preallocate(size: UInt64(options.segmentBytes)) {
                segment.allocated = UInt64(options.segmentBytes)
            }
        }
    }
}
