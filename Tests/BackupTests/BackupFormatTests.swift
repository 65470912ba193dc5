import Backup
import Crypto
import Foundation
import XCTest

/// The backup file format (`BackupFormat`): what is written reads back the same, and every
/// kind of damage — a flipped byte anywhere, a cut at any offset, a foreign file, a future
/// version — is refused with its own error, never accepted and never a crash.
final class BackupFormatTests: XCTestCase {
    static let metadata = BackupMetadata(
        clusterID: "prod", index: 42, term: 3, node: 2,
        members: [.init(id: 2, raft: "127.0.0.1:7082", api: "http://127.0.0.1:8082", role: "voter"),
                  .init(id: 1, raft: "127.0.0.1:7081", api: "http://127.0.0.1:8081", role: "voter"),
                  .init(id: 3, raft: "127.0.0.1:7083", api: "http://127.0.0.1:8083", role: "learner")],
        workflows: 2, instances: 5, historyEntries: 17, createdAtMillis: 1_777_604_400_123, serverVersion: "0.1.0")
    /// Stands in for an engine snapshot: the format does not look inside the body.
    static let body: [UInt8] = Array("OENG".utf8) + (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

    func testRoundTripKeepsMetadataAndBody() throws {
        let encoded = EncodedBackup(metadata: Self.metadata, body: Self.body)
        let bytes = encoded.bytes
        XCTAssertEqual(bytes.count, encoded.byteCount)
        XCTAssertEqual(Array(bytes.prefix(8)), Array("ORCHBKUP".utf8))
        let (backup, body) = try BackupReader.read(bytes: bytes)
        XCTAssertEqual(backup.metadata, Self.metadata)
        XCTAssertEqual(backup.metadata.members.map(\.id), [1, 2, 3], "members are kept sorted by id")
        XCTAssertEqual(body, Self.body)
        XCTAssertEqual(backup.formatVersion, 1)
        XCTAssertEqual(backup.fileBytes, UInt64(bytes.count))
        XCTAssertEqual(backup.bodyBytes, UInt64(Self.body.count))
        XCTAssertEqual(backup.sha256, encoded.sha256)
        XCTAssertEqual(backup.sha256.count, 64)
    }

    func testChecksumIsTheSHA256OfEverythingBeforeIt() throws {
        // What `head -c -32 FILE | sha256sum` prints, checked with the system's own tool so the
        // documented recipe is true.
        let bytes = EncodedBackup(metadata: Self.metadata, body: Self.body).bytes
        let file = try temporaryFile(Array(bytes.dropLast(32)))
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") else { throw XCTSkip("no sha256sum") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        XCTAssertEqual(String(printed), try BackupReader.read(bytes: bytes).backup.sha256)
    }

    func testEmptyBodyAndNoMembersRoundTrip() throws {
        let metadata = BackupMetadata(clusterID: "c", index: 0, term: 0, node: 1, members: [], workflows: 0, instances: 0,
                                      historyEntries: 0, createdAtMillis: 0, serverVersion: "dev")
        let (backup, body) = try BackupReader.read(bytes: EncodedBackup(metadata: metadata, body: []).bytes)
        XCTAssertEqual(backup.metadata, metadata)
        XCTAssertEqual(body, [])
    }

    func testFileRoundTripWithPartFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/backup.snap"
        let encoded = EncodedBackup(metadata: Self.metadata, body: Self.body)
        let file = try PartFile(path: path)
        try encoded.prefix.withUnsafeBytes { try file.append($0) }
        try file.reset()   // a download that started over writes from the start again
        for part in [encoded.prefix, encoded.body, encoded.checksum] { try part.withUnsafeBytes { try file.append($0) } }
        try file.sync()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing at the final path before commit")
        XCTAssertEqual(try BackupReader.verify(path: file.partPath).sha256, encoded.sha256)
        try file.commit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.partPath))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, "a backup holds every instance's data")
        let verified = try BackupReader.verify(path: path)
        XCTAssertEqual(verified.metadata, Self.metadata)
        let (read, body) = try BackupReader.read(path: path)
        XCTAssertEqual(read, verified)
        XCTAssertEqual(body, Self.body)
    }

    func testBodyLargerThanOneReadChunkRoundTripsFromAFile() throws {
        let body = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let path = try temporaryFile(EncodedBackup(metadata: Self.metadata, body: body).bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try BackupReader.read(path: path).body, body)
    }

    // MARK: Damage

    func testEveryFlippedByteIsRefused() throws {
        let bytes = EncodedBackup(metadata: Self.metadata, body: Self.body).bytes
        for offset in bytes.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var damaged = bytes
                damaged[offset] ^= mask
                do {
                    _ = try BackupReader.read(bytes: damaged)
                    XCTFail("a file with byte \(offset) flipped (^\(mask)) was accepted")
                } catch {
                    if offset < 8 {
                        XCTAssertEqual(error, .badMagic, "offset \(offset)")
                    } else if offset < 48 {
                        XCTAssertEqual(error, .headerChecksumMismatch, "offset \(offset)")
                    } else {
                        guard case .checksumMismatch = error else {
                            XCTFail("offset \(offset): \(error), expected a checksum mismatch")
                            continue
                        }
                    }
                }
            }
        }
    }

    func testEveryTruncationIsRefusedNamingThePart() throws {
        let encoded = EncodedBackup(metadata: Self.metadata, body: Self.body)
        let bytes = encoded.bytes
        let metadataEnd = encoded.prefix.count
        let bodyEnd = metadataEnd + Self.body.count
        for length in 0..<bytes.count {
            do {
                _ = try BackupReader.read(bytes: Array(bytes.prefix(length)))
                XCTFail("a file cut to \(length) of \(bytes.count) bytes was accepted")
            } catch {
                let part = length < 48 ? "header" : length < metadataEnd ? "metadata" : length < bodyEnd ? "body" : "checksum"
                let expected = part == "header" ? 48 : bytes.count
                XCTAssertEqual(error, .truncated(part: part, fileBytes: UInt64(length), expectedBytes: UInt64(expected)),
                               "cut to \(length)")
                XCTAssertTrue(error.description.hasPrefix("truncated: the file is \(length) bytes and ends inside its \(part)"),
                              error.description)
            }
        }
    }

    func testTruncatedFilesOnDiskAreRefused() throws {
        let bytes = EncodedBackup(metadata: Self.metadata, body: Self.body).bytes
        for length in [0, 1, 7, 8, 47, 48, 100, bytes.count - 33, bytes.count - 1] {
            let path = try temporaryFile(Array(bytes.prefix(length)))
            defer { try? FileManager.default.removeItem(atPath: path) }
            XCTAssertThrowsError(try BackupReader.verify(path: path), "cut to \(length)") { error in
                guard case .truncated? = error as? BackupFileError else { return XCTFail("cut to \(length): \(error)") }
            }
        }
    }

    func testTrailingBytesAreRefused() {
        let bytes = EncodedBackup(metadata: Self.metadata, body: Self.body).bytes
        XCTAssertThrowsError(try BackupReader.read(bytes: bytes + [0])) { error in
            XCTAssertEqual(error as? BackupFileError, .trailingBytes(fileBytes: UInt64(bytes.count + 1), expectedBytes: UInt64(bytes.count)))
        }
    }

    func testForeignFilesAreNotOurs() {
        for foreign in [Array("hello".utf8), Array("{\"not\": \"a snapshot\"}".utf8), Array("ORCHSNAP".utf8) + [UInt8](repeating: 0, count: 100)] {
            XCTAssertThrowsError(try BackupReader.read(bytes: foreign)) { error in
                XCTAssertEqual(error as? BackupFileError, .badMagic, String(decoding: foreign, as: UTF8.self))
            }
        }
    }

    func testFileCutInsideTheMagicIsTruncatedNotForeign() {
        XCTAssertThrowsError(try BackupReader.read(bytes: Array("ORCH".utf8))) { error in
            XCTAssertEqual(error as? BackupFileError, .truncated(part: "header", fileBytes: 4, expectedBytes: 48))
        }
    }

    func testUnknownVersionWithAnIntactHeaderIsNamed() {
        var bytes = EncodedBackup(metadata: Self.metadata, body: Self.body).bytes
        bytes[8] = 2
        resealHeader(&bytes)
        XCTAssertThrowsError(try BackupReader.read(bytes: bytes)) { error in
            XCTAssertEqual(error as? BackupFileError, .unsupportedVersion(found: 2, supported: 1))
            XCTAssertEqual("\(error)", "snapshot format version 2 is not supported; this build reads version 1")
        }
    }

    func testOversizedLengthsAreRefusedBeforeAnythingIsRead() {
        var bytes = EncodedBackup(metadata: Self.metadata, body: Self.body).bytes
        for index in 16..<24 { bytes[index] = 0xff }   // metadata length 2^64 - 1
        resealHeader(&bytes)
        XCTAssertThrowsError(try BackupReader.read(bytes: bytes)) { error in
            guard case .tooLarge(part: "metadata", _, _)? = error as? BackupFileError else { return XCTFail("\(error)") }
        }
        bytes = EncodedBackup(metadata: Self.metadata, body: Self.body).bytes
        for index in 24..<32 { bytes[index] = 0xff }   // body length 2^64 - 1
        resealHeader(&bytes)
        XCTAssertThrowsError(try BackupReader.read(bytes: bytes)) { error in
            guard case .tooLarge(part: "body", _, _)? = error as? BackupFileError else { return XCTFail("\(error)") }
        }
    }

    func testMissingFileIsAnIOError() {
        XCTAssertThrowsError(try BackupReader.verify(path: "/nonexistent/backup.snap")) { error in
            guard case .io(operation: "open", _, _)? = error as? BackupFileError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("/nonexistent/backup.snap"))
        }
    }

    func testErrorsAreOneLine() {
        let errors: [BackupFileError] = [
            .badMagic, .headerChecksumMismatch, .unsupportedVersion(found: 9, supported: 1),
            .truncated(part: "body", fileBytes: 10, expectedBytes: 20), .trailingBytes(fileBytes: 30, expectedBytes: 20),
            .checksumMismatch(stored: "ab", computed: "cd"), .badMetadata("x"), .tooLarge(part: "body", bytes: 9, max: 1),
            .io(operation: "open", path: "f", reason: "No such file or directory"),
        ]
        for error in errors { XCTAssertFalse(error.description.contains("\n"), error.description) }
    }

    // MARK: Helpers

    /// Rewrites the header digest after a deliberate change to the header: a "real" file from
    /// another writer, not damage.
    private func resealHeader(_ bytes: inout [UInt8]) {
        bytes.replaceSubrange(32..<48, with: Array(SHA256.hash(data: Array(bytes[0..<32]))).prefix(16))
    }

    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString.prefix(8)).snap").path
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw CocoaError(.fileWriteUnknown) }
        return path
    }
}
