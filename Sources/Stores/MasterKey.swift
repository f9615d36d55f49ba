import CCrypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 32-byte key that encrypts every secret in the state database.
///
/// Invariants: exactly 32 bytes; `keyID` is the first 8 hex digits of SHA-256 of the key (it names the
/// key, it does not reveal it). The key never goes into SQLite, a log, an error or argv; `description`
/// prints only the key id. The bytes live in one heap buffer that is wiped when the last copy of the
/// key is released.
public struct MasterKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The environment variable that supplies the key as base64 (for containers and CI).
    public static let environmentVariable = "ZBSYNC_KEY"
    /// The key file's name inside the home folder.
    public static let fileName = "master.key"
    public static let byteCount = 32

    let material: KeyMaterial
    /// First 8 hex digits of SHA-256 of the key.
    public let keyID: String

    /// A key from exactly 32 bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == MasterKey.byteCount else { return nil }
        material = KeyMaterial(bytes)
        keyID = MasterKey.fingerprint(material)
    }

    public var description: String { "MasterKey(\(keyID))" }
    public var debugDescription: String { description }

    /// 32 fresh random bytes.
    public static func generate() -> MasterKey {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        if RAND_bytes(&bytes, Int32(byteCount)) != 1 {
            // OpenSSL's generator is not expected to fail once seeded; the system generator is the same
            // kernel source underneath.
            var rng = SystemRandomNumberGenerator()
            for i in bytes.indices { bytes[i] = rng.next() }
        }
        defer { OPENSSL_cleanse(&bytes, bytes.count) }
        return MasterKey(bytes: bytes)!
    }

    /// The path of the key file in `home`.
    public static func keyFileURL(home: URL) -> URL { home.appendingPathComponent(fileName) }

    /// The active key: from `$ZBSYNC_KEY` (base64 of exactly 32 bytes) when set and not empty, else from
    /// `home/master.key`, which must be a regular file owned by the current user with mode exactly 0600.
    public static func load(home: URL, environment: [String: String]) throws -> MasterKey {
        if let encoded = environment[environmentVariable], !encoded.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return try decode(encoded, source: .environment)
        }
        let path = keyFileURL(home: home).path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw VaultError.keyFileMissing(path: path) }
            throw VaultError.io(path: path, reason: String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw VaultError.io(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw VaultError.keyFileInsecure(path: path, reason: "is not a regular file")
        }
        guard info.st_uid == geteuid() else {
            throw VaultError.keyFileInsecure(path: path, reason: "is owned by uid \(info.st_uid), not by you (uid \(geteuid()))")
        }
        let mode = info.st_mode & 0o7777
        guard mode == 0o600 else {
            throw VaultError.keyFileInsecure(path: path, reason: "has mode \(String(mode, radix: 8)); it must be 600")
        }
        var raw = [UInt8](repeating: 0, count: 256)
        defer { OPENSSL_cleanse(&raw, raw.count) }
        var count = 0
        while count < raw.count {
            let n = raw.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw VaultError.io(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            count += n
        }
        var text = String(decoding: raw[0..<count], as: UTF8.self)
        defer { text = "" }
        return try decode(text, source: .file(path))
    }

    /// Creates `home/master.key` holding a new random key: created with O_CREAT|O_EXCL and mode 0600,
    /// written as base64 and a newline, and fsynced. Refuses when the file exists.
    public static func create(home: URL) throws -> MasterKey {
        let key = generate()
        let path = keyFileURL(home: home).path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw VaultError.keyFileExists(path: path) }
            throw VaultError.io(path: path, reason: String(cString: strerror(code)))
        }
        do {
            try writeKeyFile(fd: fd, key: key, path: path)
            close(fd)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        syncDirectory(home.path)
        return key
    }

    /// Replaces `home/master.key` with `key` atomically: a 0600 temp file in the same folder, fsync,
    /// rename over the old file, fsync of the folder. A reader sees the old key or the new, never a mix.
    public static func replaceFile(home: URL, with key: MasterKey) throws {
        let path = keyFileURL(home: home).path
        let temp = path + ".tmp-\(getpid())"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VaultError.io(path: temp, reason: String(cString: strerror(errno))) }
        do {
            try writeKeyFile(fd: fd, key: key, path: temp)
            close(fd)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw VaultError.io(path: path, reason: reason)
        }
        syncDirectory(home.path)
    }

    // MARK: Internals

    enum Source { case environment, file(String) }

    private static func decode(_ text: String, source: Source) throws -> MasterKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard var data = Data(base64Encoded: trimmed) else {
            switch source {
            case .environment: throw VaultError.environmentKeyInvalid(byteCount: nil)
            case .file(let path): throw VaultError.keyFileMalformed(path: path)
            }
        }
        defer { data.resetBytes(in: 0..<data.count) }
        var bytes = [UInt8](data)
        defer { OPENSSL_cleanse(&bytes, bytes.count) }
        guard let key = MasterKey(bytes: bytes) else {
            switch source {
            case .environment: throw VaultError.environmentKeyInvalid(byteCount: bytes.count)
            case .file(let path): throw VaultError.keyFileMalformed(path: path)
            }
        }
        return key
    }

    private static func writeKeyFile(fd: Int32, key: MasterKey, path: String) throws {
        // Do not trust the umask: state the mode on the descriptor.
        guard fchmod(fd, 0o600) == 0 else { throw VaultError.io(path: path, reason: String(cString: strerror(errno))) }
        var line = key.material.withBytes { Array(Data($0).base64EncodedString().utf8) } + [0x0A]
        defer { OPENSSL_cleanse(&line, line.count) }
        var written = 0
        while written < line.count {
            let n = line.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw VaultError.io(path: path, reason: String(cString: strerror(errno)))
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw VaultError.io(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Makes a new or renamed directory entry durable; best effort.
    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func fingerprint(_ material: KeyMaterial) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        material.withBytes { raw in
            _ = SHA256(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &digest)
        }
        return digest.prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}

/// The key bytes in one heap buffer, wiped with `OPENSSL_cleanse` when released.
///
/// Wiping is best effort: Swift may have copied the bytes elsewhere (for example while decoding), and
/// those copies are outside our control.
final class KeyMaterial: @unchecked Sendable {
    // Immutable after init, so sharing across threads is safe.
    private let buffer: UnsafeMutableRawBufferPointer

    init(_ bytes: [UInt8]) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        buffer.copyBytes(from: bytes)
    }

    deinit {
        OPENSSL_cleanse(buffer.baseAddress, buffer.count)
        buffer.deallocate()
    }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(buffer))
    }
}
