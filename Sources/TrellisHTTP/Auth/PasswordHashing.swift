import HummingbirdBcrypt

/// Passwords of people, hashed with bcrypt (cost 10: about 50 ms here, slow enough against guessing).
public enum PasswordHashing {
    public static func hash(_ password: String) -> String { Bcrypt.hash(password, cost: 10) }
    public static func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }
}
