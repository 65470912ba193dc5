import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import RaftStorage

/// Crash and corruption scenarios of the file store (docs/storage.md, "Recovery").
final class WALRecoveryTests: XCTestCase {
    let options = StorageOptions(segmentBytes: 1 << 20, preallocateSegments: false, cacheBytesMax: 0)

    /// What the log holds after each save, and where in the segment that save ended.
    struct Boundary {
        var endOffset: Int
        var entries: [StoredEntry]
        var hardState: StoredHardState
    }

    /// Saves of varied shape (entries only, hard state only, both, a truncation), each
    /// recorded with the segment size after it.
    func writeVariedLog(in directory: TemporaryDirectory) throws -> (segment: String, boundaries: [Boundary]) {
        let store = try FileLogStore.open(directory: directory.path, options: options)
        defer { store.close() }
        var boundaries = [Boundary(endOffset: Int(store.activeSegment.size), entries: [], hardState: .initial)]
        var log: [StoredEntry] = []
        var hardState = StoredHardState.initial
        func record() {
            boundaries.append(Boundary(endOffset: Int(store.activeSegment.size), entries: log, hardState: hardState))
        }
        let saves: [(StoredHardState?, [StoredEntry])] = [
            (StoredHardState(term: 1, vote: 1, commit: 0), makeEntries(1...1, term: 1, payloadBytes: 3)),
            (nil, makeEntries(2...4, term: 1, payloadBytes: 40)),
            (StoredHardState(term: 1, vote: 1, commit: 2), []),
            (nil, makeEntries(5...5, term: 1, payloadBytes: 0)),
            (StoredHardState(term: 2, vote: 0, commit: 3), makeEntries(4...6, term: 2, payloadBytes: 21)),
            (StoredHardState(term: 3, vote: 2, commit: 3), []),
            (StoredHardState(term: 3, vote: 2, commit: 6), makeEntries(7...8, term: 3, payloadBytes: 100)),
        ]
        for (newHardState, entries) in saves {
            try store.save(hardState: newHardState, entries: entries)
            if let first = entries.first { log = Array(log.prefix(Int(first.index - 1))) + entries }
            if let newHardState { hardState = newHardState }
            record()
        }
        XCTAssertEqual(directory.segmentNames().count, 1)
        return (directory.file(directory.segmentNames()[0]), boundaries)
    }

    func testTornTailAtEveryByteOffsetKeepsExactlyTheCompleteSaves() throws {
        let directory = TemporaryDirectory(inMemory: true)
        defer { directory.remove() }
        let (segment, boundaries) = try writeVariedLog(in: directory)
        let full = try readFile(segment)
        XCTAssertEqual(full.count, boundaries.last!.endOffset)
        for cut in 0...full.count {
            try writeFile(segment, Array(full[0..<cut]))
            let store: FileLogStore
            do {
                store = try FileLogStore.open(directory: directory.path, options: options)
            } catch {
                return XCTFail("cut at \(cut): \(error)")
            }
            let expected = boundaries.last { $0.endOffset <= cut } ?? Boundary(endOffset: 0, entries: [], hardState: .initial)
            XCTAssertEqual(try store.allEntries(), expected.entries, "cut at \(cut)")
            XCTAssertEqual(store.hardState, expected.hardState, "cut at \(cut)")
            let atBoundary = boundaries.contains { $0.endOffset == cut }
            XCTAssertEqual(store.recoveryWarnings.isEmpty, atBoundary, "cut at \(cut): \(store.recoveryWarnings)")
            if cut > boundaries[0].endOffset && !atBoundary {
                XCTAssertEqual(store.recoveryWarnings.first?.offset, UInt64(expected.endOffset), "cut at \(cut)")
                XCTAssert(store.recoveryWarnings.first?.message.contains("torn tail") == true)
            }
            // The store is usable after repair, and the repair is durable.
            try store.save(hardState: nil, entries: [StoredEntry(index: store.lastIndex + 1, term: 9, payload: [1])])
            store.close()
            let again = try FileLogStore.open(directory: directory.path, options: options)
            XCTAssertEqual(again.recoveryWarnings, [], "cut at \(cut)")
            XCTAssertEqual(try again.allEntries(), expected.entries + [StoredEntry(index: UInt64(expected.entries.count) + 1, term: 9, payload: [1])], "cut at \(cut)")
            again.close()
        }
    }

    func testTornTailOfTheNewestOfSeveralSegmentsAtEveryByteOffset() throws {
        let directory = TemporaryDirectory(inMemory: true)
        defer { directory.remove() }
        let small = StorageOptions(segmentBytes: 4096, preallocateSegments: false, cacheBytesMax: 0)
        let store = try FileLogStore.open(directory: directory.path, options: small)
        var log: [StoredEntry] = []
        // (newest segment name, its size, the log) after each save.
        var states: [(name: String, size: Int, log: [StoredEntry])] = []
        var next: UInt64 = 1
        while store.segments.count < 3 || states.last!.size < 900 {
            let batch = makeEntries(next...(next + 2), term: 1, payloadBytes: 90)
            try store.save(hardState: nil, entries: batch)
            log += batch
            next += 3
            states.append((store.activeSegment.name, Int(store.activeSegment.size), log))
        }
        store.close()
        let newest = states.last!.name
        let previousLog = states.last { $0.name != newest }!.log
        let full = try readFile(directory.file(newest))
        for cut in 0...full.count {
            try writeFile(directory.file(newest), Array(full[0..<cut]))
            let reopened = try FileLogStore.open(directory: directory.path, options: small)
            let expected = states.last { $0.name == newest && $0.size <= cut }?.log ?? previousLog
            XCTAssertEqual(try reopened.allEntries(), expected, "cut at \(cut)")
            reopened.close()
            if !directory.segmentNames().contains(newest) { try writeFile(directory.file(newest), full) }
        }
    }

    func testHardStateTornWriteLeavesTheOldOrTheNewValue() throws {
        let directory = TemporaryDirectory(inMemory: true)
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: StoredHardState(term: 4, vote: 1, commit: 0), entries: [])
        let before = Int(store.activeSegment.size)
        try store.save(hardState: StoredHardState(term: 5, vote: 2, commit: 0), entries: [])
        store.close()
        let segment = directory.file(directory.segmentNames()[0])
        let full = try readFile(segment)
        for cut in before...full.count {
            // Torn by length, and torn by a page that never reached the disk (zeros).
            for damaged in [Array(full[0..<cut]), Array(full[0..<cut]) + [UInt8](repeating: 0, count: full.count - cut)] {
                try writeFile(segment, damaged)
                let reopened = try FileLogStore.open(directory: directory.path, options: options)
                // (Zeroing bytes that were already zero leaves the record intact.)
                let expected = damaged == full ? StoredHardState(term: 5, vote: 2, commit: 0) : StoredHardState(term: 4, vote: 1, commit: 0)
                XCTAssertEqual(reopened.hardState, expected, "cut at \(cut)")
                reopened.close()
                try writeFile(segment, full)
            }
        }
    }

    func testZeroFilledTailIsFreeSpaceNotDamage() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let preallocating = StorageOptions(segmentBytes: 1 << 16, preallocateSegments: true)
        var store = try FileLogStore.open(directory: directory.path, options: preallocating)
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 1), entries: makeEntries(1...10, term: 1))
        store.close()
        let segment = directory.file(directory.segmentNames()[0])
        XCTAssertEqual(try readFile(segment).count, 1 << 16, "preallocated")
        store = try FileLogStore.open(directory: directory.path, options: preallocating)
        XCTAssertEqual(store.recoveryWarnings, [])
        XCTAssertEqual(try store.allEntries(), makeEntries(1...10, term: 1))
        try store.save(hardState: nil, entries: makeEntries(11...12, term: 1))
        store.close()
        // A power cut that zeroed the last pages written: the tail batch is gone, silently
        // if nothing but zeros remain.
        var bytes = try readFile(segment)
        let size = Int(try FileLogStore.open(directory: directory.path, options: preallocating).activeSegment.size)
        for i in (size - 50)..<size { bytes[i] = 0 }
        try writeFile(segment, bytes)
        store = try FileLogStore.open(directory: directory.path, options: preallocating)
        XCTAssertEqual(try store.allEntries(), makeEntries(1...10, term: 1))
        XCTAssertEqual(store.recoveryWarnings.count, 1, "\(store.recoveryWarnings)")
        store.close()
    }

    func testBitFlipInTheLastRecordIsATornTail() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var store = try FileLogStore.open(directory: directory.path, options: options)
        for i in 1...10 as ClosedRange<UInt64> { try store.save(hardState: nil, entries: makeEntries(i...i, term: 1, payloadBytes: 30)) }
        let lastBatch = Int(EntryLocation.offset(store.locations.last!))
        store.close()
        let segment = directory.file(directory.segmentNames()[0])
        try flipBit(segment, at: lastBatch + 30)
        store = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(store.lastIndex, 9)
        XCTAssertEqual(store.recoveryWarnings.map(\.offset), [UInt64(lastBatch)])
        XCTAssert(store.recoveryWarnings[0].file.hasSuffix(directory.segmentNames()[0]))
        store.close()
    }

    func testBitFlipInTheMiddleRefusesToStart() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var store = try FileLogStore.open(directory: directory.path, options: options)
        for i in 1...10 as ClosedRange<UInt64> { try store.save(hardState: nil, entries: makeEntries(i...i, term: 1, payloadBytes: 30)) }
        let third = Int(EntryLocation.offset(store.locations[2]))
        store.close()
        let name = directory.segmentNames()[0]
        for (what, offset) in [("body", third + 20), ("length", third + 4), ("checksum", third)] {
            let original = try readFile(directory.file(name))
            try flipBit(directory.file(name), at: offset)
            XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options), what) { error in
                guard case let .corruptRecord(file, at, reason) = error as? StorageError else { return XCTFail("\(what): \(error)") }
                XCTAssert(file.hasSuffix(name))
                XCTAssertEqual(at, UInt64(third), what)
                XCTAssert("\(error)".contains("offset \(third)"), "\(error)")
                XCTAssert(reason.contains("intact batch follows"), reason)
            }
            try writeFile(directory.file(name), original)
        }
        store = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertEqual(store.lastIndex, 10)
        store.close()
    }

    func testDamageInASealedSegmentRefusesToStart() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let small = StorageOptions(segmentBytes: 4096, preallocateSegments: true)
        let store = try FileLogStore.open(directory: directory.path, options: small)
        for i in stride(from: UInt64(1), through: 200, by: 10) { try store.save(hardState: nil, entries: makeEntries(i...(i + 9), term: 1, payloadBytes: 64)) }
        store.close()
        let names = directory.segmentNames()
        XCTAssertGreaterThan(names.count, 3)
        // The last record of a sealed segment: not a torn tail, since later segments exist.
        let sealed = directory.file(names[1])
        let size = try readFile(sealed).count
        try flipBit(sealed, at: size - 20)
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: small)) { error in
            guard case let .corruptRecord(file, _, reason) = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, sealed)
            XCTAssert(reason.contains("sealed segment"), reason)
        }
    }

    func testMissingSegmentRefusesToStart() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let small = StorageOptions(segmentBytes: 4096, preallocateSegments: false)
        let store = try FileLogStore.open(directory: directory.path, options: small)
        for i in stride(from: UInt64(1), through: 200, by: 10) { try store.save(hardState: nil, entries: makeEntries(i...(i + 9), term: 1, payloadBytes: 64)) }
        store.close()
        let names = directory.segmentNames()
        let middle = try readFile(directory.file(names[2]))
        unlink(directory.file(names[2]))
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: small)) { error in
            guard case .missingSegment = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssert("\(error)".contains(names[3]), "\(error)")
        }
        try writeFile(directory.file(names[2]), middle)
        // The oldest segment gone while nothing was compacted: entries 1... are lost.
        unlink(directory.file(names[0]))
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: small)) { error in
            guard case .missingSegment = error as? StorageError else { return XCTFail("\(error)") }
        }
    }

    /// Appends a hand-made batch to the newest segment, bypassing the store's checks.
    func appendRawBatch(_ directory: TemporaryDirectory, _ build: (inout BatchEncoder) -> Void) throws {
        let path = directory.file(directory.segmentNames().last!)
        var encoder = BatchEncoder()
        build(&encoder)
        encoder.finish()
        let file = try FileDescriptor(path: path, flags: O_RDWR)
        try file.writeAll(encoder.bytes, at: try file.size())
    }

    func testIndexGapAndTermRegressionRefuseToStart() throws {
        for (name, bad) in [("gap", StoredEntry(index: 7, term: 2)), ("term", StoredEntry(index: 6, term: 1))] {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let store = try FileLogStore.open(directory: directory.path, options: options)
            try store.save(hardState: nil, entries: makeEntries(1...5, term: 2))
            let size = store.activeSegment.size
            store.close()
            try appendRawBatch(directory) { $0.append(entry: bad) }
            XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options), name) { error in
                switch error as? StorageError {
                case let .indexGap(_, offset, expected, found) where name == "gap":
                    XCTAssertEqual([offset, expected, found], [size, 6, 7])
                case let .termRegression(_, offset, index, term, previous) where name == "term":
                    XCTAssertEqual([offset, index, term, previous], [size, 6, 1, 2])
                default: XCTFail("\(name): \(error)")
                }
            }
        }
    }

    func testCommitBeyondTheLogRefusesToStart() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: nil, entries: makeEntries(1...5, term: 2))
        store.close()
        try appendRawBatch(directory) { $0.append(hardState: StoredHardState(term: 2, vote: 0, commit: 9)) }
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options)) { error in
            guard case .invariantViolated = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssert("\(error)".contains("commit index 9"), "\(error)")
        }
    }

    func testUnknownFormatVersionIsRefusedByName() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try FileLogStore.open(directory: directory.path, options: options).close()
        let path = directory.file(directory.segmentNames()[0])
        var bytes = try readFile(path)
        bytes[8] = 2
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<32])) }
        bytes.storeLE(crc, at: 32)
        try writeFile(path, bytes)
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options)) { error in
            XCTAssertEqual(error as? StorageError, .unsupportedFormatVersion(file: path, version: 2, supported: 1))
        }
    }

    func testInterruptedSegmentCreationIsDiscarded() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: nil, entries: makeEntries(1...3, term: 1))
        store.close()
        for partial in [[UInt8](), Array(WALFormat.encodeSegmentHeader(seq: 2, firstIndex: 4).prefix(20)), WALFormat.encodeSegmentHeader(seq: 2, firstIndex: 4)] {
            let name = WALFormat.segmentFileName(seq: 2, firstIndex: 4)
            try writeFile(directory.file(name), partial)
            let reopened = try FileLogStore.open(directory: directory.path, options: options)
            XCTAssertEqual(reopened.lastIndex, 3)
            XCTAssertEqual(reopened.recoveryWarnings.count, 1)
            XCTAssertEqual(directory.segmentNames().count, 1)
            reopened.close()
        }
    }

    func testSecondOpenOfTheSameDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options)) { error in
            XCTAssertEqual(error as? StorageError, .locked(path: directory.file("LOCK")))
        }
        store.close()
        try FileLogStore.open(directory: directory.path, options: options).close()
    }

    func testDamageFoundWhenReadingBackIsReported() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: nil, entries: makeEntries(1...5, term: 1, payloadBytes: 50))
        try flipBit(directory.file(directory.segmentNames()[0]), at: Int(EntryLocation.offset(store.locations[1])) + 40)
        XCTAssertThrowsError(try store.entries(from: 1, to: 6, maxBytes: .max)) { error in
            guard case let .corruptRecord(_, offset, _) = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(offset, EntryLocation.offset(store.locations[1]))
        }
        store.close()
    }

    func testCompactionDeletesCoveredSegmentsOnly() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let small = StorageOptions(segmentBytes: 4096, preallocateSegments: false)
        var store = try FileLogStore.open(directory: directory.path, options: small)
        for i in stride(from: UInt64(1), through: 300, by: 10) { try store.save(hardState: StoredHardState(term: 1, vote: 0, commit: i + 9), entries: makeEntries(i...(i + 9), term: 1, payloadBytes: 64)) }
        let before = directory.segmentNames().count
        try store.saveSnapshot(SnapshotMetadata(index: 150, term: 1), data: [1])
        try store.compact(upTo: 150)
        let kept = store.segments
        XCTAssertLessThan(kept.count, before)
        XCTAssertGreaterThan(kept[0].liveLast, 150, "the first kept segment still holds needed entries")
        XCTAssertLessThanOrEqual(kept[0].liveFirst, 151)
        store.close()
        store = try FileLogStore.open(directory: directory.path, options: small)
        XCTAssertEqual(store.firstIndex, 151)
        XCTAssertEqual(try store.allEntries(), makeEntries(151...300, term: 1, payloadBytes: 64))
        store.close()
    }
}

/// A power cut can persist any subset of the pages of an unsynced write.
final class PowerCutTests: XCTestCase {
    let options = StorageOptions(segmentBytes: 1 << 20, preallocateSegments: true, cacheBytesMax: 0)

    func testALostPageInsideTheLastBatchDropsThatBatchOnly() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 0), entries: makeEntries(1...10, term: 1, payloadBytes: 100))
        let lastBatchStart = Int(store.activeSegment.size)
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 10), entries: makeEntries(11...200, term: 1, payloadBytes: 100))
        let end = Int(store.activeSegment.size)
        store.close()
        let segment = directory.file(directory.segmentNames()[0])
        let original = try readFile(segment)
        // Lose one 4 KiB page at a time inside the last batch; later pages survive.
        for page in stride(from: (lastBatchStart / 4096) * 4096, to: end, by: 4096) {
            var bytes = original
            for i in max(page, lastBatchStart)..<min(page + 4096, end) { bytes[i] = 0 }
            try writeFile(segment, bytes)
            store = try FileLogStore.open(directory: directory.path, options: options)
            XCTAssertEqual(store.lastIndex, 10, "page at \(page)")
            XCTAssertEqual(store.hardState.commit, 0, "page at \(page)")
            XCTAssertEqual(store.recoveryWarnings.count, 1, "page at \(page)")
            store.close()
        }
    }

    func testALostPageInAnEarlierSyncedBatchRefusesToStart() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try FileLogStore.open(directory: directory.path, options: options)
        try store.save(hardState: nil, entries: makeEntries(1...100, term: 1, payloadBytes: 100))
        try store.save(hardState: nil, entries: makeEntries(101...101, term: 1, payloadBytes: 100))
        store.close()
        let segment = directory.file(directory.segmentNames()[0])
        var bytes = try readFile(segment)
        for i in 4096..<8192 { bytes[i] = 0 }
        try writeFile(segment, bytes)
        XCTAssertThrowsError(try FileLogStore.open(directory: directory.path, options: options)) { error in
            guard case .corruptRecord = error as? StorageError else { return XCTFail("\(error)") }
        }
    }

    func testANewDataDirectoryIsCreated() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let nested = directory.file("node-1")
        let store = try FileLogStore.open(directory: nested, options: options)
        try store.save(hardState: nil, entries: makeEntries(1...1, term: 1))
        store.close()
        XCTAssertEqual(try FileLogStore.open(directory: nested + "/", options: options).lastIndex, 1)
        for name in (try? FileSystem.list(nested)) ?? [] { unlink(nested + "/" + name) }
        rmdir(nested)
    }
}
