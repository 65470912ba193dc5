import Crypto

extension WorkflowDefinition {
    /// Version of the canonical encoding; bump it when the encoding changes (hashes change too).
    static let canonicalFormatVersion = 1

    /// The canonical encoding the content hash is computed over: compact JSON, object keys
    /// sorted by UTF-8 bytes, integers without a fraction, other numbers in Swift's shortest
    /// round-trip form, only `"`, `\` and control characters escaped.
    public var canonicalEncoding: String {
        Self.canonicalValue(name: name, description: description, initial: initial, data: data,
                            states: states, transitions: transitions, triggers: triggers,
                            historyMaxEntries: historyMaxEntries, retention: retention).canonicalJSON
    }

    static func hash(name: String, description: String, initial: String, data: [String: JSONValue],
                     states: [StateDefinition], transitions: [TransitionDefinition], triggers: [TriggerDefinition],
                     historyMaxEntries: Int?, retention: WorkflowDuration?) -> String {
        let value = canonicalValue(name: name, description: description, initial: initial, data: data,
                                   states: states, transitions: transitions, triggers: triggers,
                                   historyMaxEntries: historyMaxEntries, retention: retention)
        return sha256Hex(value.canonicalBytes)
    }

    /// The lowercase hex SHA-256 of `bytes` (swift-crypto).
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func canonicalValue(name: String, description: String, initial: String, data: [String: JSONValue],
                                       states: [StateDefinition], transitions: [TransitionDefinition],
                                       triggers: [TriggerDefinition], historyMaxEntries: Int?,
                                       retention: WorkflowDuration?) -> JSONValue {
        var fields: [String: JSONValue] = [
            "format": .number(Double(canonicalFormatVersion)),
            "name": .string(name),
            "description": .string(description),
            "initial": .string(initial),
            "data": .object(data),
            "states": .array(states.map(canonical)),
            "transitions": .array(transitions.map(canonical)),
            "triggers": .array(triggers.map(canonical)),
        ]
        // Added after format 1: present only when set, so definitions without it keep their hash.
        if let historyMaxEntries { fields["history"] = .object(["max_entries": .number(Double(historyMaxEntries))]) }
        if let retention { fields["retention"] = .number(Double(retention.milliseconds)) }
        return .object(fields)
    }

    private static func canonical(_ state: StateDefinition) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(state.name),
            "final": .bool(state.isFinal),
            "on_enter": .array(state.onEnter.map(canonical)),
            "on_exit": .array(state.onExit.map(canonical)),
        ]
        if let timeout = state.timeout {
            object["timeout"] = .object(["after": .number(Double(timeout.after.milliseconds)),
                                         "transition": .string(timeout.transition)])
        }
        return .object(object)
    }

    private static func canonical(_ transition: TransitionDefinition) -> JSONValue {
        let from: JSONValue
        switch transition.from {
        case .anyNonFinal: from = .string("*")
        case .states(let names): from = .array(names.map(JSONValue.string))
        }
        return .object([
            "name": .string(transition.name),
            "from": from,
            "to": .string(transition.to),
            "hooks": .array(transition.hooks.map(canonical)),
        ])
    }

    private static func canonical(_ hook: Hook) -> JSONValue {
        var object: [String: JSONValue] = [
            "plugin": .string(hook.plugin),
            "with": .object(hook.with),
            "retry": .object([
                "attempts": .number(Double(hook.retry.attempts)),
                "backoff": .number(Double(hook.retry.backoff.milliseconds)),
                "max_backoff": .number(Double(hook.retry.maxBackoff.milliseconds)),
            ]),
        ]
        if let timeout = hook.timeout { object["timeout"] = .number(Double(timeout.milliseconds)) }
        if let onSuccess = hook.onSuccess { object["on_success"] = .string(onSuccess) }
        if let onFailure = hook.onFailure { object["on_failure"] = .string(onFailure) }
        return .object(object)
    }

    private static func canonical(_ trigger: TriggerDefinition) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(trigger.name),
            "cron": .string(trigger.cron),
            "timezone": .string(trigger.timezone),
            "concurrency": .string(trigger.concurrency.rawValue),
            "misfire": .string(trigger.misfire.rawValue),
        ]
        // Written only when set, so that the hashes of definitions without them stay as they were.
        if let replace = trigger.replaceTransition { object["replace_transition"] = .string(replace) }
        if trigger.maxCatchup != TriggerDefinition.maxCatchupDefault { object["max_catchup"] = .number(Double(trigger.maxCatchup)) }
        switch trigger.action {
        case .transition(let name, let whereState):
            object["transition"] = .string(name)
            if let whereState { object["where"] = .object(["state": .string(whereState)]) }
        case .start(let data):
            object["start"] = .object(data)
        }
        return .object(object)
    }
}

extension JSONValue {
    /// This value as canonical JSON text (see `WorkflowDefinition.canonicalEncoding`).
    public var canonicalJSON: String {
        String(decoding: canonicalBytes, as: UTF8.self)
    }

    /// The canonical JSON as UTF-8 bytes (built as bytes: appending to a `String` scalar by
    /// scalar was the slowest part of compiling a large workflow).
    var canonicalBytes: [UInt8] {
        var output: [UInt8] = []
        write(to: &output)
        return output
    }

    private func write(to output: inout [UInt8]) {
        switch self {
        case .null: output += "null".utf8
        case .bool(let value): output += (value ? "true" : "false").utf8
        case .number(let value):
            if value.isFinite, value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
                output += String(Int64(value)).utf8
            } else if value.isFinite {
                output += "\(value)".utf8
            } else {
                output += "null".utf8  // never in a validated definition: the loader rejects .inf and .nan
            }
        case .string(let value): JSONValue.writeString(value, to: &output)
        case .array(let values):
            output.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                value.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Escapes the quote, the backslash and control characters (as `\n`, `\r`, `\t` or `\u00XX`); every
    /// other byte of the UTF-8 is copied.
    static func writeString(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += #"\""#.utf8
            case UInt8(ascii: "\\"): output += #"\\"#.utf8
            case UInt8(ascii: "\n"): output += #"\n"#.utf8
            case UInt8(ascii: "\r"): output += #"\r"#.utf8
            case UInt8(ascii: "\t"): output += #"\t"#.utf8
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                output += #"\u00"#.utf8
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
