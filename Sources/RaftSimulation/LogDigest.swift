import Raft

/// Chained 64-bit digests of log prefixes.
///
/// `digest(i) = chain(digest(i - 1), entry i)`, starting from ``empty`` at index 0. Two logs
/// whose digests agree at index `i` hold (with overwhelming probability) identical prefixes
/// `1...i`, terms and data included. That turns "same index and term ⇒ identical prefixes"
/// (log matching) and "applied sequences are prefixes of each other" (state-machine safety)
/// into O(1) comparisons per entry instead of O(log length).
public enum LogDigest {
    /// The digest of the empty prefix (index 0).
    public static let empty: UInt64 = 0x6A09_E667_F3BC_C908

    /// The digest of the prefix ending at `entry`, given the digest of the prefix before it.
    public static func chain(_ previous: UInt64, _ entry: Entry) -> UInt64 {
        var h = mix(previous ^ 0x9E37_79B9_7F4A_7C15)
        h = mix(h ^ entry.index)
        h = mix(h ^ entry.term)
        h = mix(h ^ (UInt64(entry.kind.rawValue) << 56) ^ UInt64(entry.data.count))
        entry.data.withUnsafeBufferPointer { bytes in
            var word: UInt64 = 0
            var shift: UInt64 = 0
            for byte in bytes {
                word |= UInt64(byte) << shift
                shift += 8
                if shift == 64 {
                    h = mix(h ^ word)
                    word = 0
                    shift = 0
                }
            }
            if shift > 0 { h = mix(h ^ word ^ 0xFF) }
        }
        return h
    }

    /// The SplitMix64 finaliser: a bijective 64-bit mixer.
    @inline(__always) static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A log position used as a dictionary key.
struct PositionKey: Hashable {
    var index: LogIndex
    var term: Term
}
