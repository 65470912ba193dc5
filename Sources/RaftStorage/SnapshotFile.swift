#if canImport(Glibc)
import Glibc
#endif

/// Snapshot files, format version 1 (docs/storage.md, "Snapshot files"):
///
/// ```
/// 0  magic "ORCHSNAP"       8 bytes
/// 8  version u32 = 1 | reserved u32 = 0
/// 16 index u64 | 24 term u64 | 32 configurationBytes u64 | 40 dataBytes u64
/// 48 header crc32c u32 (over bytes 0 ..< 48) | reserved u32 = 0
/// 56 configuration | data | crc32c u32 over configuration and data
/// ```
///
/// Named `snapshot-<index hex16>-<term hex16>.snap`; written as `<name>.tmp`, fsynced,
/// renamed, directory fsynced.
enum SnapshotFile {
    static let magic: [UInt8] = Array("ORCHSNAP".utf8)
    static let formatVersion: UInt32 = 1
    static let headerBytes = 56

    static func fileName(index: UInt64, term: UInt64) -> String {
        "snapshot-\(hex16(index))-\(hex16(term)).snap"
    }

    static func parseFileName(_ name: String) -> (index: UInt64, term: UInt64)? {
        guard name.hasPrefix("snapshot-"), name.hasSuffix(".snap"), name.count == 47 else { return nil }
        let parts = name.dropFirst(9).dropLast(5).split(separator: "-")
        guard parts.count == 2, let index = parseHex16(parts[0]), let term = parseHex16(parts[1]) else { return nil }
        return (index, term)
    }

    static func encodeHeader(_ metadata: SnapshotMetadata, dataBytes: Int) -> [UInt8] {
        var bytes = magic
        bytes.appendLE(formatVersion)
        bytes.appendLE(UInt32(0))
        bytes.appendLE(metadata.index)
        bytes.appendLE(metadata.term)
        bytes.appendLE(UInt64(metadata.configuration.count))
        bytes.appendLE(UInt64(dataBytes))
        bytes.appendLE(bytes.withUnsafeBytes { CRC32C.checksum($0) })
        bytes.appendLE(UInt32(0))
        precondition(bytes.count == headerBytes)
        return bytes
    }

    /// Writes the snapshot durably into `directory`; returns the file name.
    static func write(_ metadata: SnapshotMetadata, data: [UInt8], directory: String) throws -> String {
        let name = fileName(index: metadata.index, term: metadata.term)
        let path = FileSystem.join(directory, name)
        let temporary = path + ".tmp"
        let file = try FileDescriptor(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var offset: UInt64 = 0
        let header = encodeHeader(metadata, dataBytes: data.count)
        try file.writeAll(header, at: offset)
        offset += UInt64(header.count)
        try file.writeAll(metadata.configuration, at: offset)
        offset += UInt64(metadata.configuration.count)
        try file.writeAll(data, at: offset)
        offset += UInt64(data.count)
        var crc = metadata.configuration.withUnsafeBytes { CRC32C.update(0, $0) }
        crc = data.withUnsafeBytes { CRC32C.update(crc, $0) }
        var trailer: [UInt8] = []
        trailer.appendLE(crc)
        try file.writeAll(trailer, at: offset)
        try file.fullSync()
        file.close()
        try FileSystem.rename(temporary, to: path)
        try FileSystem.syncDirectory(directory)
        return name
    }

    /// Reads only the header's metadata (no data, no data checksum).
    static func readMetadata(path: String, options: StorageOptions) throws -> SnapshotMetadata {
        let file = try FileDescriptor(path: path, flags: O_RDONLY)
        let header = try file.readAll(count: headerBytes, at: 0)
        let (metadata, _) = try decodeHeader(header, path: path, options: options, file: file)
        return metadata
    }

    private static func decodeHeader(
        _ header: [UInt8], path: String, options: StorageOptions, file: FileDescriptor
    ) throws -> (SnapshotMetadata, dataBytes: Int) {
        guard header.count == headerBytes else { throw StorageError.snapshotCorrupt(file: path, reason: "shorter than its header") }
        return try header.withUnsafeBytes { raw in
            guard Array(raw[0..<8]) == magic else { throw StorageError.snapshotCorrupt(file: path, reason: "bad magic") }
            guard raw.le32(48) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<48])) else {
                throw StorageError.snapshotCorrupt(file: path, reason: "header checksum mismatch")
            }
            let version = raw.le32(8)
            guard version == formatVersion else {
                throw StorageError.unsupportedFormatVersion(file: path, version: version, supported: formatVersion)
            }
            let configurationBytes = raw.le64(32)
            let dataBytes = raw.le64(40)
            guard configurationBytes <= UInt64(options.snapshotConfigurationBytesMax) else {
                throw StorageError.snapshotCorrupt(file: path, reason: "configuration of \(configurationBytes) bytes exceeds snapshotConfigurationBytesMax")
            }
            guard dataBytes <= UInt64(options.snapshotBytesMax) else {
                throw StorageError.snapshotCorrupt(file: path, reason: "data of \(dataBytes) bytes exceeds snapshotBytesMax")
            }
            let configuration = try file.readAll(count: Int(configurationBytes), at: UInt64(headerBytes))
            guard configuration.count == Int(configurationBytes) else {
                throw StorageError.snapshotCorrupt(file: path, reason: "truncated configuration")
            }
            return (SnapshotMetadata(index: raw.le64(16), term: raw.le64(24), configuration: configuration), Int(dataBytes))
        }
    }

    /// Reads and fully validates a snapshot file.
    static func read(path: String, options: StorageOptions) throws -> StoredSnapshot {
        let file = try FileDescriptor(path: path, flags: O_RDONLY)
        let header = try file.readAll(count: headerBytes, at: 0)
        let (metadata, dataBytes) = try decodeHeader(header, path: path, options: options, file: file)
        let dataOffset = UInt64(headerBytes + metadata.configuration.count)
        let expectedSize = dataOffset + UInt64(dataBytes) + 4
        let size = try file.size()
        guard size == expectedSize else {
            throw StorageError.snapshotCorrupt(file: path, reason: "file is \(size) bytes, header says \(expectedSize)")
        }
        let data = try file.readAll(count: dataBytes, at: dataOffset)
        let trailer = try file.readAll(count: 4, at: dataOffset + UInt64(dataBytes))
        guard data.count == dataBytes, trailer.count == 4 else {
            throw StorageError.snapshotCorrupt(file: path, reason: "truncated data")
        }
        var crc = metadata.configuration.withUnsafeBytes { CRC32C.update(0, $0) }
        crc = data.withUnsafeBytes { CRC32C.update(crc, $0) }
        guard crc == trailer.withUnsafeBytes({ $0.le32(0) }) else {
            throw StorageError.snapshotCorrupt(file: path, reason: "data checksum mismatch")
        }
        if let named = parseFileName(String(path.split(separator: "/").last ?? "")),
            named.index != metadata.index || named.term != metadata.term
        {
            throw StorageError.snapshotCorrupt(file: path, reason: "name says index \(named.index) term \(named.term), header says \(metadata.index)/\(metadata.term)")
        }
        return StoredSnapshot(metadata: metadata, data: data)
    }
}
