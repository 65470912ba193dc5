import NIOCore

/// Splits a byte stream into frames, wherever the stream was cut.
///
/// Feed it bytes with ``append(_:)-(ByteBuffer)`` as they arrive and call ``next()``
/// until it returns `nil`. The header is checked as soon as its 10 bytes are present:
/// a bad magic, version, type or an oversized length fails before the body is buffered.
/// After an error the stream is unusable (frames have no resynchronisation marker):
/// close the connection.
public struct FrameDecoder: Sendable {
    /// Frames larger than this (header + body) are rejected from their header.
    public let maxFrameBytes: Int
    private var pending = ByteBuffer()
    /// Stream offset of `pending`'s first readable byte.
    public private(set) var streamOffset = 0

    public init(maxFrameBytes: Int = WireCodec.defaultMaxFrameBytes) {
        precondition(maxFrameBytes >= WireCodec.headerBytes, "maxFrameBytes must hold at least a header")
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedBytes: Int { pending.readableBytes }

    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        if pending.readableBytes == 0 {
            pending = bytes  // the common case: no copy
        } else {
            pending.writeBuffer(&bytes)
        }
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        pending.writeBytes(bytes)
    }

    /// The next whole frame, or `nil` if more bytes are needed.
    public mutating func next() throws(WireError) -> WireFrame? {
        guard pending.readableBytes >= WireCodec.headerBytes else { return nil }
        let start = pending.readerIndex
        let magic = pending.getBytes(at: start, length: 4)!
        guard magic == WireCodec.magic else { throw WireError(.badMagic(magic), at: streamOffset) }
        let version = pending.getInteger(at: start + 4, as: UInt8.self)!
        guard WireCodec.supportedVersions.contains(version) else { throw WireError(.unsupportedVersion(version), at: streamOffset + 4) }
        let rawType = pending.getInteger(at: start + 5, as: UInt8.self)!
        guard let type = WireFrame.FrameType(rawValue: rawType) else { throw WireError(.unknownFrameType(rawType), at: streamOffset + 5) }
        let bodyBytes = Int(pending.getInteger(at: start + 6, endianness: .big, as: UInt32.self)!)
        let frameBytes = WireCodec.headerBytes + bodyBytes
        guard frameBytes <= maxFrameBytes else {
            throw WireError(.frameTooLarge(bytes: frameBytes, maxFrameBytes: maxFrameBytes), at: streamOffset + 6)
        }
        // No reservation for the declared size: a forged length must not allocate before its bytes arrive.
        guard pending.readableBytes >= frameBytes else { return nil }
        let body = pending.getSlice(at: start + WireCodec.headerBytes, length: bodyBytes)!
        var reader = WireReader(body, baseOffset: streamOffset + WireCodec.headerBytes)
        let frame = try WireCodec.decodeBody(type: type, &reader)
        pending.moveReaderIndex(forwardBy: frameBytes)
        streamOffset += frameBytes
        if pending.readableBytes == 0 {
            pending.clear()
        } else if pending.readerIndex > 1 << 20 {
            pending.discardReadBytes()
        }
        return frame
    }
}
