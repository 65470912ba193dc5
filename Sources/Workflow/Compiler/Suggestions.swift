/// "Did you mean" suggestions (public so that the engine and API can make the same ones for
/// unknown transitions and states), and the name rule (public for plugin discovery).
///
/// ```swift
/// Suggestions.closest(to: "shiped", among: ["created", "shipped"])   // "shipped"
/// ```
public enum Suggestions {
    /// The candidate closest to `word` by edit distance, if close enough to be a likely typo:
    /// at most 1 edit for words up to 4 characters, 2 up to 8, 3 beyond. Ties go to the
    /// candidate that sorts first, so the answer is deterministic.
    public static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let limit = word.count <= 4 ? 1 : word.count <= 8 ? 2 : 3
        var best: (distance: Int, candidate: String)?
        let lowered = word.lowercased()
        for candidate in candidates where candidate != word {
            // Case-only differences count as one edit: `Paid` for `paid` is a likely slip.
            let distance = lowered == candidate.lowercased() ? 1 : editDistance(word, candidate, limit: limit)
            guard distance <= limit else { continue }
            if best == nil || distance < best!.distance || (distance == best!.distance && candidate < best!.candidate) {
                best = (distance, candidate)
            }
        }
        return best?.candidate
    }

    /// `" (did you mean 'x'?)"` or an empty string.
    static func didYouMean(_ word: String, among candidates: some Sequence<String>) -> String {
        closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// Edit distance counting insertions, deletions, substitutions and swaps of neighbours
    /// (`form` → `from` is one edit), giving up (returning `limit + 1`) once it must exceed `limit`.
    static func editDistance(_ lhs: String, _ rhs: String, limit: Int) -> Int {
        let a = Array(lhs.unicodeScalars)
        let b = Array(rhs.unicodeScalars)
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }

    /// True for names matching `[a-z0-9][a-z0-9_-]*` of at most `WorkflowLimits.nameLengthMax` characters:
    /// the rule for workflow, state, transition, trigger and plugin names (public so that plugin
    /// discovery applies the same rule to the names it finds on disk).
    public static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= WorkflowLimits.nameLengthMax, isLowerAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// A valid name close to an invalid one (`Order Fulfilment` → `order-fulfilment`), if any.
    static func validNameNear(_ name: String) -> String? {
        var result = ""
        for scalar in name.lowercased().unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" {
                result.unicodeScalars.append(scalar)
            } else if scalar == " " || scalar == "." {
                result += "-"
            }
        }
        while let first = result.first, first == "-" || first == "_" { result.removeFirst() }
        return isValidName(result) && result != name ? result : nil
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
