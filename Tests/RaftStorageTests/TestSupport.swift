import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import RaftStorage

/// A seeded generator (SplitMix64): every random test prints its seed when it fails.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh directory under /tmp, removed by `remove()` (call it in a `defer`).
struct TemporaryDirectory {
    let path: String

    /// `inMemory` puts it on /dev/shm (tmpfs) when there is one: for tests that reopen a
    /// store thousands of times, where real fsyncs would only add minutes.
    init(inMemory: Bool = false) {
        let base = inMemory && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/raftstorage-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: \(errno)")
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() {
        if let names = try? FileSystem.list(path) {
            for name in names { unlink(file(name)) }
        }
        rmdir(path)
    }

    func names() -> [String] { (try? FileSystem.list(path)) ?? [] }
    func segmentNames() -> [String] { names().filter { $0.hasSuffix(".wal") } }
    func snapshotNames() -> [String] { names().filter { $0.hasSuffix(".snap") } }
}

func readFile(_ path: String) throws -> [UInt8] {
    let file = try FileDescriptor(path: path, flags: O_RDONLY)
    return try file.readAll(count: Int(try file.size()), at: 0)
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let file = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
    try file.writeAll(bytes, at: 0)
}

func flipBit(_ path: String, at offset: Int, bit: Int = 3) throws {
    var bytes = try readFile(path)
    bytes[offset] ^= UInt8(1 << bit)
    try writeFile(path, bytes)
}

func makeEntries(_ range: ClosedRange<UInt64>, term: UInt64, payloadBytes: Int = 16) -> [StoredEntry] {
    range.map { index in
        StoredEntry(
            index: index, term: term, kind: UInt8(index % 3),
            payload: (0..<payloadBytes).map { k in UInt8(truncatingIfNeeded: Int(index) &* 31 &+ k) })
    }
}

/// One implementation under test, with a way to restart it.
final class StoreHarness {
    let name: String
    private(set) var store: any RaftLogStore
    private let restartStore: (any RaftLogStore) throws -> any RaftLogStore
    private let cleanup: () -> Void
    private let tornSave: (any RaftLogStore, Int) -> Void

    init(
        name: String, store: any RaftLogStore, restart: @escaping (any RaftLogStore) throws -> any RaftLogStore,
        tornSave: @escaping (any RaftLogStore, Int) -> Void, cleanup: @escaping () -> Void
    ) {
        self.name = name
        self.store = store
        self.restartStore = restart
        self.tornSave = tornSave
        self.cleanup = cleanup
    }

    /// Crash and restart (nothing is lost: every save was synced).
    func restart() throws { store = try restartStore(store) }

    /// The next save writes only `bytes` bytes and dies.
    func injectTornSave(afterBytes bytes: Int) { tornSave(store, bytes) }

    func close() { cleanup() }

    static func file(options: StorageOptions, inMemory: Bool = false) throws -> StoreHarness {
        let directory = TemporaryDirectory(inMemory: inMemory)
        let store = try FileLogStore.open(directory: directory.path, options: options)
        return StoreHarness(
            name: "FileLogStore", store: store,
            restart: { old in
                (old as! FileLogStore).close()
                return try FileLogStore.open(directory: directory.path, options: options)
            },
            tornSave: { store, bytes in (store as! FileLogStore).crashAfterBytes = bytes },
            cleanup: { directory.remove() })
    }

    static func memory(options: StorageOptions) -> StoreHarness {
        StoreHarness(
            name: "MemoryLogStore", store: MemoryLogStore(options: options),
            restart: { old in
                (old as! MemoryLogStore).crash()
                return old
            },
            tornSave: { store, _ in (store as! MemoryLogStore).failNextSave() },
            cleanup: {})
    }
}

/// Small segments and a small cache so tests exercise rolls and disk reads.
let smallOptions = StorageOptions(segmentBytes: 4096, preallocateSegments: false, cacheBytesMax: 1024)

/// Runs `body` against both implementations: the behaviour must be identical.
func forEachStore(
    options: StorageOptions = smallOptions, file: StaticString = #filePath, line: UInt = #line,
    _ body: (StoreHarness) throws -> Void
) throws {
    for make in [{ try StoreHarness.file(options: options) }, { StoreHarness.memory(options: options) }] {
        let harness = try make()
        defer { harness.close() }
        do {
            try body(harness)
        } catch {
            XCTFail("\(harness.name): \(error)", file: file, line: line)
        }
    }
}

extension RaftLogStore {
    func allEntries() throws -> [StoredEntry] {
        try entries(from: firstIndex, to: lastIndex + 1, maxBytes: .max)
    }
}
