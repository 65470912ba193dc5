import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import RaftStorage

/// Random appends (with conflicting suffixes), hard states, snapshots, compactions,
/// installations, torn saves and restarts, checked against a plain model after every
/// step, for both stores. A failure prints its seed; rerun one seed with
/// `RAFTSTORAGE_SEED=<seed> swift test --filter LogStorePropertyTests`.
final class LogStorePropertyTests: XCTestCase {
    /// The obvious implementation: what the stores must be indistinguishable from.
    struct Model {
        var firstIndex: UInt64 = 1
        var compactTerm: UInt64 = 0
        var entries: [StoredEntry] = []
        var hardState = StoredHardState.initial
        var snapshots: [SnapshotMetadata] = []
        let retained: Int

        var lastIndex: UInt64 { firstIndex - 1 + UInt64(entries.count) }

        func term(at index: UInt64) -> UInt64? {
            if index + 1 == firstIndex { return compactTerm }
            guard index >= firstIndex && index <= lastIndex else { return nil }
            return entries[Int(index - firstIndex)].term
        }

        mutating func save(_ newHardState: StoredHardState?, _ batch: [StoredEntry]) {
            if let first = batch.first {
                entries.removeLast(Int(lastIndex + 1 - first.index))
                entries += batch
            }
            if let newHardState { hardState = newHardState }
        }

        mutating func addSnapshot(_ metadata: SnapshotMetadata) {
            snapshots.append(metadata)
            if snapshots.count > retained { snapshots.removeFirst() }
        }
    }

    /// Tiny segments and cache so that rolls, compaction across segments and disk reads
    /// happen often; odd seeds run without preallocation.
    func options(seed: UInt64) -> StorageOptions {
        StorageOptions(segmentBytes: 4096, preallocateSegments: seed % 2 == 0, cacheBytesMax: 2048, snapshotsRetained: 2)
    }

    func testRandomOperationsMatchTheModel() throws {
        let seeds: [UInt64]
        if let text = ProcessInfo.processInfo.environment["RAFTSTORAGE_SEED"], let seed = UInt64(text) {
            seeds = [seed]
        } else {
            seeds = (1...10).map { UInt64($0) &* 0x9E37_79B9 &+ UInt64($0 % 2) }
        }
        for seed in seeds {
            let options = options(seed: seed)
            for harness in [try StoreHarness.file(options: options, inMemory: true), StoreHarness.memory(options: options)] {
                defer { harness.close() }
                do {
                    try run(seed: seed, steps: 400, harness: harness, options: options)
                } catch {
                    XCTFail("seed \(seed), \(harness.name): \(error)")
                }
            }
        }
    }

    func run(seed: UInt64, steps: Int, harness h: StoreHarness, options: StorageOptions) throws {
        var rng = SplitMix64(seed: seed)
        var model = Model(retained: options.snapshotsRetained)
        func check(_ step: Int, _ what: String, full: Bool) throws {
            let at = "seed \(seed) \(h.name) step \(step) (\(what))"
            XCTAssertEqual(h.store.firstIndex, model.firstIndex, at)
            XCTAssertEqual(h.store.lastIndex, model.lastIndex, at)
            XCTAssertEqual(h.store.hardState, model.hardState, at)
            XCTAssertEqual(h.store.latestSnapshotMetadata, model.snapshots.last, at)
            XCTAssertEqual(try h.store.term(at: model.firstIndex - 1), model.compactTerm, at)
            XCTAssertNil(try h.store.term(at: model.lastIndex + 1), at)
            if full {
                XCTAssertEqual(try h.store.allEntries(), model.entries, at)
                for index in (model.firstIndex - 1)...model.lastIndex {
                    XCTAssertEqual(try h.store.term(at: index), model.term(at: index), "\(at) term at \(index)")
                }
            } else if model.lastIndex >= model.firstIndex {
                let from = UInt64.random(in: model.firstIndex...model.lastIndex, using: &rng)
                let to = UInt64.random(in: from...(model.lastIndex + 1), using: &rng)
                let maxBytes = Int.random(in: 0...3000, using: &rng)
                var expected: [StoredEntry] = []
                var bytes = 0
                for entry in model.entries[Int(from - model.firstIndex)..<Int(to - model.firstIndex)] {
                    bytes += entry.byteCount
                    if !expected.isEmpty && bytes > maxBytes { break }
                    expected.append(entry)
                }
                XCTAssertEqual(try h.store.entries(from: from, to: to, maxBytes: maxBytes), expected, "\(at) range \(from)..<\(to) max \(maxBytes)")
            }
        }

        func randomSave() -> (StoredHardState?, [StoredEntry]) {
            var batch: [StoredEntry] = []
            if Int.random(in: 0..<5, using: &rng) > 0 {
                let lowest = max(model.firstIndex, model.hardState.commit + 1)
                let start = UInt64.random(in: min(lowest, model.lastIndex + 1)...(model.lastIndex + 1), using: &rng)
                var term = model.term(at: start - 1)! + (Bool.random(using: &rng) ? 1 : 0)
                let count = Int.random(in: 0..<10, using: &rng) == 0 ? Int.random(in: 1...150, using: &rng) : Int.random(in: 1...8, using: &rng)
                for k in 0..<count {
                    if Int.random(in: 0..<20, using: &rng) == 0 { term += 1 }
                    let payload = (0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    batch.append(StoredEntry(index: start + UInt64(k), term: term, kind: UInt8.random(in: 0...3, using: &rng), payload: payload))
                }
            }
            var hardState: StoredHardState? = nil
            if batch.isEmpty || Bool.random(using: &rng) {
                let newLast = batch.last?.index ?? model.lastIndex
                let highestTerm = max(model.hardState.term, batch.last?.term ?? 0)
                let term = highestTerm + (Int.random(in: 0..<6, using: &rng) == 0 ? 1 : 0)
                let vote = term == model.hardState.term && model.hardState.vote != 0 ? model.hardState.vote : UInt64.random(in: 0...3, using: &rng)
                let commit = UInt64.random(in: model.hardState.commit...max(model.hardState.commit, newLast), using: &rng)
                hardState = StoredHardState(term: term, vote: vote, commit: commit)
            }
            return (hardState, batch)
        }

        for step in 0..<steps {
            let roll = Int.random(in: 0..<100, using: &rng)
            var what = ""
            var full = false
            switch roll {
            case 0..<55:
                let (hardState, batch) = randomSave()
                what = "save \(batch.first?.index ?? 0)+\(batch.count) \(hardState.map { "\($0)" } ?? "")"
                try h.store.save(hardState: hardState, entries: batch)
                model.save(hardState, batch)
            case 55..<63:
                let low = max(model.snapshots.last.map { $0.index + 1 } ?? 0, model.firstIndex - 1)
                let high = min(model.hardState.commit, model.lastIndex)
                guard low <= high, high > 0 else { continue }
                let index = UInt64.random(in: low...high, using: &rng)
                let metadata = SnapshotMetadata(index: index, term: model.term(at: index)!, configuration: [UInt8(index & 0xFF)])
                what = "snapshot \(index)"
                try h.store.saveSnapshot(metadata, data: (0..<Int.random(in: 0...500, using: &rng)).map { UInt8(truncatingIfNeeded: $0) })
                model.addSnapshot(metadata)
            case 63..<71:
                guard let snapshot = model.snapshots.last, model.firstIndex <= min(snapshot.index, model.lastIndex) else { continue }
                let index = UInt64.random(in: model.firstIndex...min(snapshot.index, model.lastIndex), using: &rng)
                what = "compact \(index)"
                let term = model.term(at: index)!
                try h.store.compact(upTo: index)
                model.entries.removeFirst(Int(index + 1 - model.firstIndex))
                model.firstIndex = index + 1
                model.compactTerm = term
            case 71..<74:
                let index = max(model.hardState.commit, (model.snapshots.last?.index ?? 0) + 1) + UInt64.random(in: 0...40, using: &rng)
                let term = max(model.hardState.term, model.term(at: model.lastIndex) ?? 0) + UInt64.random(in: 0...1, using: &rng)
                let metadata = SnapshotMetadata(index: index, term: term, configuration: [1, 2, 3])
                what = "install \(index)/\(term)"
                try h.store.installSnapshot(metadata, data: [7, 7, 7])
                model.addSnapshot(metadata)
                model.entries = []
                model.firstIndex = index + 1
                model.compactTerm = term
                full = true
            case 74..<88:
                what = "restart"
                try h.restart()
                full = true
            case 88..<92:
                let (hardState, batch) = randomSave()
                what = "torn save"
                h.injectTornSave(afterBytes: Int.random(in: 0...300, using: &rng))
                XCTAssertThrowsError(try h.store.save(hardState: hardState, entries: batch), "seed \(seed) step \(step)")
                try h.restart()
                full = true
            default:
                what = "read"
            }
            try check(step, what, full: full || step % 25 == 0)
            if testRun?.failureCount ?? 0 > 0 { return }
        }
        try h.restart()
        try check(steps, "final restart", full: true)
    }
}
