extension WorkflowDefinition {
    /// Version of the canonical encoding; bump it when the encoding changes (hashes change too).
    static let canonicalFormatVersion = 1

    /// The canonical encoding the content hash is computed over: compact JSON, object keys
    /// sorted by UTF-8 bytes, integers without a fraction, other numbers in Swift's shortest
    /// round-trip form, only `"`, `\` and control characters escaped.
    public var canonicalEncoding: String {
        Self.canonicalValue(name: name, description: description, initial: initial, data: data,
                            states: states, transitions: transitions, triggers: triggers).canonicalJSON
    }

    static func hash(name: String, description: String, initial: String, data: [String: JSONValue],
                     states: [StateDefinition], transitions: [TransitionDefinition], triggers: [TriggerDefinition]) -> String {
        let value = canonicalValue(name: name, description: description, initial: initial, data: data,
                                   states: states, transitions: transitions, triggers: triggers)
        return SHA256.hexDigest(Array(value.canonicalJSON.utf8))
    }

    private static func canonicalValue(name: String, description: String, initial: String, data: [String: JSONValue],
                                       states: [StateDefinition], transitions: [TransitionDefinition],
                                       triggers: [TriggerDefinition]) -> JSONValue {
        .object([
            "format": .number(Double(canonicalFormatVersion)),
            "name": .string(name),
            "description": .string(description),
            "initial": .string(initial),
            "data": .object(data),
            "states": .array(states.map(canonical)),
            "transitions": .array(transitions.map(canonical)),
            "triggers": .array(triggers.map(canonical)),
        ])
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
        var output = ""
        write(to: &output)
        return output
    }

    private func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let value):
            if value.isFinite, value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
                output += String(Int64(value))
            } else if value.isFinite {
                output += "\(value)"
            } else {
                output += "null"  // never in a validated definition: the loader rejects .inf and .nan
            }
        case .string(let value): JSONValue.writeString(value, to: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output += "," }
                JSONValue.writeString(key, to: &output)
                output += ":"
                members[key]!.write(to: &output)
            }
            output += "}"
        }
    }

    static func writeString(_ value: String, to output: inout String) {
        output += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
