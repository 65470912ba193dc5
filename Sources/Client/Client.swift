/// HTTP client (placeholder).
enum ClientNamespace {}
