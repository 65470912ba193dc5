import Foundation
import Server

/// Writes `yaml` to a temporary file and loads it as `--config`; errors name the file `FILE`.
func loadConfigFile(_ yaml: String) throws(ConfigError) -> ServerConfig {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("orch-config-\(UUID().uuidString.prefix(8)).yaml").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(yaml.utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    var config = ServerConfig()
    do {
        try config.load(file: path)
    } catch {
        throw ConfigError(error.description.replacingOccurrences(of: path, with: "FILE"))
    }
    return config
}
