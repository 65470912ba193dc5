import Foundation
import RaftStorage

#if canImport(Glibc)
import Glibc
#endif

// The `storage` suite: what the disk can do, and how close the WAL gets to it.
//
//   swift run -c release orchestrator-bench storage [--dir PATH] [--quick] [--recovery-mb N]
//
// 1. raw 4 KiB pwrite + fdatasync into a preallocated file (the physical limit);
//    sequential write rate (1 MiB writes, one fdatasync at the end);
// 2. FileLogStore.save at batch sizes 1, 16, 256, 4096 of 128-byte entries;
// 3. recovery (open) of a log of N MB (default 1024), warm page cache and cold
//    (pages dropped with posix_fadvise(DONTNEED));
// 4. `--only roll`: the latency of the saves that start a new 64 MiB segment, against the
//    others (saves of 64 entries of 1 KiB, --roll-mb of log).

private struct StorageBenchmarkOptions {
    var directory = "/tmp/orchestrator-storage-bench-\(getpid())"
    var quick = false
    var recoveryMB = 1024
    var rollMB = 512
    var keep = false
    /// Run only these parts (raw, append, recovery); all when empty.
    var only: Set<String> = []

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        var recoverySet = false
        while let argument = rest.popFirst() {
            switch argument {
            case "--dir":
                guard let value = rest.popFirst() else { throw BenchUsage("--dir needs a path") }
                directory = value
            case "--quick": quick = true
            case "--keep": keep = true
            case "--only":
                guard let value = rest.popFirst() else { throw BenchUsage("--only needs raw, append or recovery") }
                only.insert(value)
            case "--recovery-mb":
                guard let value = rest.popFirst().flatMap({ Int($0) }), value > 0 else { throw BenchUsage("--recovery-mb needs a positive number") }
                recoveryMB = value
                recoverySet = true
            case "--roll-mb":
                guard let value = rest.popFirst().flatMap({ Int($0) }), value > 0 else { throw BenchUsage("--roll-mb needs a positive number") }
                rollMB = value
            case "--help", "-h":
                throw BenchUsage("")
            default: throw BenchUsage("unknown option \(argument)")
            }
        }
        if quick && !recoverySet { recoveryMB = 128 }
    }
}

struct BenchUsage: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String {
        (message.isEmpty ? "" : message + "\n")
            + "usage: orchestrator-bench storage [--dir PATH] [--quick] [--recovery-mb N] [--keep]\n"
            + "  --dir PATH        where to write (default /tmp/orchestrator-storage-bench-<pid>; must be the disk you care about)\n"
            + "  --quick           shorter runs and a 128 MB recovery log\n"
            + "  --recovery-mb N   size of the log for the recovery measurement (default 1024)\n"
            + "  --only PART       run only raw, append, recovery or roll (repeatable; roll runs only when named)\n"
            + "  --roll-mb N       log written by the roll measurement (default 512: 7 segment rolls)\n"
            + "  --keep            leave the files behind"
    }
}

/// CPU time (user + system) this process has used, in seconds.
private func cpuSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

private func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

private func removeTree(_ path: String) {
    if let names = try? FileManager.default.contentsOfDirectory(atPath: path) {
        for name in names { removeTree(path + "/" + name) }
    }
    unlink(path)
    rmdir(path)
}

private func check(_ rc: Int32, _ what: String) throws {
    if rc != 0 { throw BenchUsage("\(what) failed: errno \(errno)") }
}

/// Raw `blockBytes` pwrite + fdatasync at increasing offsets, cycling through a 64 MiB
/// region that was written (zeros) and synced beforehand: each sync flushes data only,
/// no allocation or extent conversion, which is the most a single writer can get.
private func rawSyncRate(directory: String, duration: Double, blockBytes: Int = 4096) throws -> (perSecond: Double, medianMs: Double, p99Ms: Double, cpuMicros: Double) {
    let count = 100_000
    let regionBytes = 64 << 20
    let path = directory + "/raw-fsync"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw BenchUsage("open \(path): errno \(errno)") }
    defer { close(fd); unlink(path) }
    let zeros = [UInt8](repeating: 0, count: 1 << 20)
    for i in 0..<(regionBytes >> 20) {
        guard zeros.withUnsafeBytes({ pwrite(fd, $0.baseAddress, 1 << 20, off_t(i) << 20) }) == 1 << 20 else {
            throw BenchUsage("pwrite failed: errno \(errno)")
        }
    }
    try check(fsync(fd), "fsync")
    let blocksInRegion = regionBytes / blockBytes
    let block = [UInt8](repeating: 0xA5, count: blockBytes)
    var latencies: [Double] = []
    latencies.reserveCapacity(count)
    let clock = ContinuousClock()
    let start = clock.now
    let cpu0 = cpuSeconds()
    var done = 0
    for i in 0..<count {
        if done >= 20 && seconds(clock.now - start) >= duration { break }
        done += 1
        let t0 = clock.now
        let written = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, blockBytes, off_t((i % blocksInRegion) * blockBytes)) }
        guard written == blockBytes else { throw BenchUsage("pwrite failed: errno \(errno)") }
        try check(fdatasync(fd), "fdatasync")
        latencies.append(seconds(clock.now - t0) * 1000)
    }
    let total = seconds(clock.now - start)
    let cpu = cpuSeconds() - cpu0
    latencies.sort()
    return (Double(done) / total, percentile(latencies, 0.5), percentile(latencies, 0.99), cpu / Double(done) * 1e6)
}

/// Sequential write rate: 1 MiB pwrites and one fdatasync at the end.
private func sequentialWriteRate(directory: String, megabytes: Int) throws -> Double {
    let path = directory + "/raw-sequential"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw BenchUsage("open \(path): errno \(errno)") }
    defer { close(fd); unlink(path) }
    let block = [UInt8](repeating: 0x5A, count: 1 << 20)
    let clock = ContinuousClock()
    let start = clock.now
    for i in 0..<megabytes {
        let written = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 1 << 20, off_t(i) << 20) }
        guard written == 1 << 20 else { throw BenchUsage("pwrite failed: errno \(errno)") }
    }
    try check(fdatasync(fd), "fdatasync")
    return Double(megabytes) / seconds(clock.now - start)
}

private func makeEntries(from first: UInt64, count: Int, payload: [UInt8]) -> [StoredEntry] {
    (0..<count).map { StoredEntry(index: first + UInt64($0), term: 1, kind: 0, payload: payload) }
}

/// Appends batches of 128-byte entries for about `duration` seconds.
private func appendRate(directory: String, batch: Int, duration: Double) throws -> (saves: Double, entries: Double, megabytes: Double, p99Ms: Double, maxMs: Double, cpuMicrosPerSave: Double) {
    let path = directory + "/append-\(batch)"
    removeTree(path)
    let store = try FileLogStore.open(directory: path)
    defer { store.close(); removeTree(path) }
    let payload = [UInt8](repeating: 0x42, count: 128)
    // Entries prepared up front: the measurement is the store, not the caller.
    let batches = (0..<8).map { makeEntries(from: UInt64($0 * batch + 1), count: batch, payload: payload) }
    var next: UInt64 = 1
    var saves = 0
    var latencies: [Double] = []
    let clock = ContinuousClock()
    let start = clock.now
    var cpu = 0.0
    while seconds(clock.now - start) < duration || saves < 20 {
        var entries = batches[saves % batches.count]
        for k in entries.indices { entries[k].index = next + UInt64(k) }
        let t0 = clock.now
        let cpu0 = cpuSeconds()
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: next - 1), entries: entries)
        cpu += cpuSeconds() - cpu0
        latencies.append(seconds(clock.now - t0) * 1000)
        next += UInt64(batch)
        saves += 1
    }
    let total = seconds(clock.now - start)
    latencies.sort()
    let entries = Double(saves * batch)
    return (Double(saves) / total, entries / total, entries * 128 / total / 1e6, percentile(latencies, 0.99), latencies.last!, cpu / Double(saves) * 1e6)
}

/// Saves of 64 entries of 1 KiB (a node's batch under load) into default 64 MiB segments
/// until about `megabytes` MB are written; the saves that started a new segment (a new
/// `.wal` file appeared) are timed apart from the others.
private func rollLatency(directory: String, megabytes: Int) throws -> (rolls: [Double], others: [Double]) {
    let path = directory + "/roll"
    removeTree(path)
    let store = try FileLogStore.open(directory: path)
    defer { store.close(); removeTree(path) }
    func segmentFiles() -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".wal") }.count }
    var template = makeEntries(from: 1, count: 64, payload: [UInt8](repeating: 0x33, count: 1024))
    var next: UInt64 = 1
    var segments = segmentFiles()
    var rolls: [Double] = [], others: [Double] = []
    let clock = ContinuousClock()
    while next * 1056 < UInt64(megabytes) * 1_000_000 {
        for k in template.indices { template[k].index = next + UInt64(k) }
        let t0 = clock.now
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: next - 1), entries: template)
        let ms = seconds(clock.now - t0) * 1000
        next += UInt64(template.count)
        let now = segmentFiles()
        if now != segments { rolls.append(ms) } else { others.append(ms) }
        segments = now
    }
    return (rolls, others.sorted())
}

/// Writes a log of about `megabytes` MB, then times `open` warm and cold.
private func recoveryRate(directory: String, megabytes: Int) throws -> (bytes: UInt64, entries: UInt64, warm: Double, warmCPU: Double, cold: Double, coldCPU: Double) {
    let path = directory + "/recovery"
    removeTree(path)
    defer { removeTree(path) }
    let payload = [UInt8](repeating: 0x17, count: 128)
    do {
        let store = try FileLogStore.open(directory: path)
        var next: UInt64 = 1
        var template = makeEntries(from: 1, count: 4096, payload: payload)
        while store.lastIndex * 160 < UInt64(megabytes) * 1_000_000 {
            for k in template.indices { template[k].index = next + UInt64(k) }
            try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: next - 1), entries: template)
            next += 4096
        }
        store.close()
    }
    var bytes: UInt64 = 0
    let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".wal") }
    for name in names {
        var info = stat()
        stat(path + "/" + name, &info)
        bytes += UInt64(info.st_size)
    }
    let clock = ContinuousClock()
    var start = clock.now
    var cpuStart = cpuSeconds()
    var store = try FileLogStore.open(directory: path)
    let warm = seconds(clock.now - start)
    let warmCPU = cpuSeconds() - cpuStart
    let entries = store.lastIndex
    store.close()
    for name in names {
        let fd = open(path + "/" + name, O_RDONLY)
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
    }
    start = clock.now
    cpuStart = cpuSeconds()
    store = try FileLogStore.open(directory: path)
    let cold = seconds(clock.now - start)
    let coldCPU = cpuSeconds() - cpuStart
    precondition(store.lastIndex == entries)
    store.close()
    return (bytes, entries, warm, warmCPU, cold, coldCPU)
}

func runStorageBenchmark(_ arguments: [String]) throws {
    let options = try StorageBenchmarkOptions(arguments)
    let command = (["swift run -c release orchestrator-bench storage"] + arguments).joined(separator: " ")
    print("command: \(command)")
    print("directory: \(options.directory)")
    try? FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
    defer { if !options.keep { removeTree(options.directory) } }

    func wanted(_ part: String) -> Bool { options.only.isEmpty || options.only.contains(part) }
    print(String(format: "load average at start: %@", (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"))

    // The disk here is shared and its latency drifts by 10x within a minute, so each WAL
    // figure is compared with the raw figure measured in the same rounds, interleaved.
    let rounds = options.quick ? 2 : 5
    let slice = options.quick ? 0.5 : 1.5
    // What one batch of 4096 128-byte entries occupies in the WAL (160-byte records).
    let batchBytes = 4096 * 160
    var rawSmall: [Double] = [], walSmall: [Double] = [], rawBig: [Double] = [], walBig: [Double] = []
    var rawBigCPU: [Double] = []
    var results: [Int: (saves: Double, entries: Double, megabytes: Double, p99Ms: Double, maxMs: Double, cpuMicrosPerSave: Double)] = [:]
    var sequential: Double? = nil
    if wanted("raw") || wanted("append") {
        sequential = try sequentialWriteRate(directory: options.directory, megabytes: options.quick ? 128 : 512)
        print(String(format: "sequential write (1 MiB writes, one fdatasync): %.0f MB/s", sequential!))
        print("interleaved rounds (\(rounds) x \(slice) s each): raw 4 KiB pwrite+fdatasync vs WAL batch-1; raw \(batchBytes / 1024) KiB pwrite+fdatasync vs WAL batch-4096")
        print("  round   raw 4K syncs/s   WAL b1 saves/s  ratio   raw 640K MB/s   WAL b4096 MB/s(WAL bytes)  ratio")
        for round in 1...rounds {
            let raw = try rawSyncRate(directory: options.directory, duration: slice)
            let one = try appendRate(directory: options.directory, batch: 1, duration: slice)
            let big = try rawSyncRate(directory: options.directory, duration: slice, blockBytes: batchBytes)
            let four = try appendRate(directory: options.directory, batch: 4096, duration: slice)
            rawSmall.append(raw.perSecond); walSmall.append(one.saves)
            rawBig.append(big.perSecond * Double(batchBytes) / 1e6); walBig.append(four.saves * Double(batchBytes) / 1e6)
            rawBigCPU.append(big.cpuMicros)
            print(String(format: "  %5d   %14.0f   %14.0f  %4.0f%%   %13.0f   %14.0f             %4.0f%%", round, raw.perSecond, one.saves,
                         one.saves / raw.perSecond * 100, rawBig.last!, walBig.last!, walBig.last! / rawBig.last! * 100))
            results[1] = one
            results[4096] = four
        }
    }
    if wanted("append") {
        print("appends of 128-byte entries (one save = one fdatasync, with a hard state), last round for 1 and 4096:")
        print("  batch      saves/s    entries/s   payload MB/s   p99 ms   max ms   CPU us/save")
        for batch in [1, 16, 256, 4096] {
            let r = try results[batch] ?? appendRate(directory: options.directory, batch: batch, duration: options.quick ? 1 : 3)
            results[batch] = r
            print(String(format: "  %5d   %10.0f   %10.0f   %12.1f   %6.2f   %6.2f   %11.0f", batch, r.saves, r.entries, r.megabytes, r.p99Ms, r.maxMs, r.cpuMicrosPerSave))
        }
    }

    if options.only.contains("roll") {
        let r = try rollLatency(directory: options.directory, megabytes: options.rollMB)
        print(String(format: "segment rolls (64 x 1 KiB entries per save, 64 MiB segments, %d MB): %d rolls, save ms: %@",
                     options.rollMB, r.rolls.count, r.rolls.map { String(format: "%.1f", $0) }.joined(separator: " ")))
        print(String(format: "  other saves: %d, p50 %.2f ms, p99 %.2f ms, max %.1f ms", r.others.count,
                     percentile(r.others, 0.5), percentile(r.others, 0.99), r.others.last ?? 0))
    }

    var recoveryMBs: (warm: Double, cold: Double, cpu: Double)? = nil
    if wanted("recovery") {
        let recovery = try recoveryRate(directory: options.directory, megabytes: options.recoveryMB)
        let mb = Double(recovery.bytes) / 1e6
        print(String(format: "recovery of %.0f MB (%llu entries): warm cache %.3f s = %.0f MB/s (CPU %.3f s = %.0f MB per CPU-second); cold cache %.3f s = %.0f MB/s (CPU %.3f s)",
                     mb, recovery.entries, recovery.warm, mb / recovery.warm, recovery.warmCPU, mb / recovery.warmCPU,
                     recovery.cold, mb / recovery.cold, recovery.coldCPU))
        recoveryMBs = (mb / recovery.warm, mb / recovery.cold, mb / recovery.warmCPU)
    }

    print("targets:")
    func sum(_ values: [Double]) -> Double { values.reduce(0, +) }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    if !rawSmall.isEmpty {
        // Per-round ratios, then their median: the disk's latency can change tenfold between
        // two measurements of one round, which a ratio of sums would let dominate.
        let ratio = median(zip(walSmall, rawSmall).map { $0 / $1 * 100 })
        print(String(format: "  batch-1 appends within 90%% of raw fsync rate (median of rounds): %.0f%% -> %@", ratio, ratio >= 90 ? "met" : "NOT met"))
        let payloadBest = (walBig.max() ?? 0) * 128 / 160
        let payloadMedian = median(walBig) * 128 / 160
        let seq = sequential ?? 0
        print(String(format: "  batch-4096 >= 150 MB/s or >= 80%% of sequential (%.0f MB/s): median %.1f MB/s payload, best round %.1f MB/s -> %@", seq,
                     payloadMedian, payloadBest, payloadMedian >= 150 || median(walBig) >= 0.8 * seq ? "met" : (payloadBest >= 150 ? "met in the best round only" : "NOT met")))
        print(String(format: "  (batch-4096 WAL bytes vs raw same-size data-only pwrite+fdatasync, median of rounds: %.0f%%; raw 640 KiB costs %.0f us CPU per op, a WAL save %.0f us)",
                     median(zip(walBig, rawBig).map { $0 / $1 * 100 }), sum(rawBigCPU) / Double(rawBigCPU.count), results[4096]?.cpuMicrosPerSave ?? 0))
    }
    if let recoveryMBs {
        print(String(format: "  recovery >= 500 MB/s: warm %.0f MB/s, cold %.0f MB/s, %.0f MB per CPU-second -> %@", recoveryMBs.warm, recoveryMBs.cold,
                     recoveryMBs.cpu, min(recoveryMBs.warm, recoveryMBs.cold) >= 500 ? "met" : "NOT met (wall clock)"))
    }
}
