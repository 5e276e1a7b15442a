//! Passwords: argon2id with the crate's defaults (OWASP's recommended m=19 MiB, t=2, p=1),
//! stored as PHC strings.
//!
//! Hashing is 19 MiB of memory and tens of milliseconds of CPU per call. The server does
//! it, for logins, password changes and new users alike, on a [`PasswordWorkers`] pool of
//! a few threads. Each job allocates its 19 MiB and frees it at once, and the process
//! tells glibc to serve allocations that large from `mmap` alone ([`return_large_blocks`]),
//! so the memory goes back to the system when the hash is done. Why: glibc otherwise
//! raises its `mmap` threshold to the size of the first such block freed and keeps every
//! later one in the freeing thread's arena, so each thread that ever hashed held 19.5 MiB
//! for good (229 MiB after twelve parallel logins; issue 9). Mapping and zeroing the block
//! costs about a millisecond per hash. The pool bounds the memory in use to
//! `workers × 19 MiB` while hashes run, bounds the CPU that anonymous logins can take,
//! and a login waiting its turn holds no database connection. The free functions
//! ([`hash`], [`verify`]) serve the command line and tests.

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::problem::ApiError;

/// The argon2id PHC string of `password`, with a fresh random salt (allocates its memory).
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())?
        .to_string())
}

/// Whether `password` matches the stored PHC string (allocates its memory). A malformed
/// stored hash matches nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// The blocks one default argon2id computation needs (19 MiB).
fn default_blocks() -> usize {
    Params::default().block_count()
}

/// [`hash`] in `memory` (at least [`default_blocks`] long) instead of a fresh allocation.
fn hash_in(password: &str, memory: &mut [Block]) -> Result<String, String> {
    let params = Params::default();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("getrandom: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            &mut memory[..params.block_count()],
        )
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// [`verify`] in `memory`. A stored hash whose parameters need more memory than `memory`
/// holds (made with other settings) is verified with a one-off allocation.
fn verify_in(password: &str, stored: &str, memory: &mut [Block]) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.block_count() > memory.len() {
        return verify(password, stored);
    }
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt.as_ref(),
        &mut out,
        &mut memory[..blocks],
    );
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| &out == expected)
}

/// A hash nobody's password matches, for the unknown-user path (same parameters, so the
/// same time).
fn nobody(memory: &mut [Block]) -> &'static str {
    static NOBODY: OnceLock<String> = OnceLock::new();
    NOBODY.get_or_init(|| hash_in("no user has this password", memory).unwrap_or_default())
}

type Job = Box<dyn FnOnce(&mut [Block]) + Send>;

/// The pool that hashes and verifies passwords for the server. See the module
/// documentation.
pub struct PasswordWorkers {
    jobs: SyncSender<Job>,
}

impl PasswordWorkers {
    /// How many argon2 computations may wait for a worker; past that a login answers 503
    /// with `Retry-After` instead of queueing without bound.
    pub const QUEUE: usize = 256;

    /// Starts `workers` threads.
    pub fn start(workers: usize) -> std::io::Result<PasswordWorkers> {
        let (jobs, queue) = mpsc::sync_channel::<Job>(Self::QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..workers.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("jiban-argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The guard is dropped at the end of the statement: one worker
                        // waits on the queue while the others compute.
                        let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match job {
                            // Allocated for this job and freed after it: see the module
                            // documentation.
                            Ok(job) => job(&mut vec![Block::default(); default_blocks()]),
                            Err(_) => break,
                        }
                    }
                })?;
        }
        Ok(PasswordWorkers { jobs })
    }

    /// The default size: one worker per core, at most 4.
    pub fn default_size() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = tx.send(f(memory));
        });
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => ApiError::unavailable("the password queue is full"),
            TrySendError::Disconnected(_) => ApiError::internal("the password workers stopped"),
        })?;
        rx.await
            .map_err(|_| ApiError::internal("a password worker dropped its job"))
    }

    /// Whether `password` matches `stored`; with `None` (no such user) it spends the same
    /// time on a hash nobody has and answers false, so timing does not reveal usernames.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        self.run(move |memory| match stored {
            Some(stored) => verify_in(&password, &stored, memory),
            None => {
                let stored = nobody(memory);
                let _ = verify_in(&password, stored, memory);
                false
            }
        })
        .await
    }

    /// The argon2id PHC string of `password`, with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| hash_in(&password, memory))
            .await?
            .map_err(ApiError::internal)
    }

    /// How many passwords one job of [`hash_many`](Self::hash_many) hashes: about a
    /// quarter of a second of one core, which is the longest a login may wait behind it.
    pub const BATCH: usize = 8;

    /// The hashes of an import's passwords (`POST /v1/users` with CSV), in their order.
    /// They are hashed [`BATCH`](Self::BATCH) at a time, each batch one job in the
    /// worker's own memory, and the next batch is queued only when one is done: an import
    /// keeps one worker busy, never the queue, so logins on the other workers (and behind
    /// at most one batch on this one) go on while it runs, and the memory in use stays the
    /// pool's `workers × 19 MiB`. A full queue (logins waiting) is 503, and nothing has
    /// been written.
    pub async fn hash_many(&self, passwords: Vec<String>) -> Result<Vec<String>, ApiError> {
        let mut hashes = Vec::with_capacity(passwords.len());
        let mut rest = passwords.into_iter().peekable();
        while rest.peek().is_some() {
            let batch: Vec<String> = rest.by_ref().take(Self::BATCH).collect();
            let hashed = self
                .run(move |memory| {
                    batch
                        .iter()
                        .map(|password| hash_in(password, memory))
                        .collect::<Result<Vec<_>, _>>()
                })
                .await?
                .map_err(ApiError::internal)?;
            hashes.extend(hashed);
        }
        Ok(hashes)
    }
}

/// Hashes `passwords` for `jiban import users` on `threads` threads (at most one per
/// password), each reusing one block of memory for its share: `threads × 19 MiB` at most
/// while it runs, freed at the end. The hashes are in the order of `passwords`.
pub fn hash_all(passwords: &[&str], threads: usize) -> Result<Vec<String>, String> {
    if passwords.is_empty() {
        return Ok(Vec::new());
    }
    let share = passwords.len().div_ceil(threads.clamp(1, passwords.len()));
    std::thread::scope(|scope| {
        let parts: Vec<_> = passwords
            .chunks(share)
            .map(|part| {
                scope.spawn(move || {
                    let mut memory = vec![Block::default(); default_blocks()];
                    part.iter()
                        .map(|password| hash_in(password, &mut memory))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut hashes = Vec::with_capacity(passwords.len());
        for part in parts {
            hashes.extend(
                part.join()
                    .map_err(|_| "a hashing thread panicked".to_owned())??,
            );
        }
        Ok(hashes)
    })
}

/// Makes glibc serve every allocation of a mebibyte or more with its own `mmap` and
/// return it to the system when freed, instead of raising that threshold to the largest
/// block freed so far and keeping such blocks in the freeing thread's arena (glibc's
/// default, `mallopt(3)`, "M_MMAP_THRESHOLD"). Only argon2's 19 MiB blocks are that
/// large here. Call once at start, before other threads run. Elsewhere than glibc it
/// does nothing.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; it is called at start,
    // before any other thread allocates.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// A password for the first admin when none is configured: 24 characters from an
/// alphabet without look-alikes (no 0/O, 1/l/I), about 137 bits.
pub fn generate() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)?;
    // 256 is not a multiple of 57: the bias (at most 1/256 per character) costs far less
    // than a bit of the 137.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("wrong horse battery", &a));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn hashing_in_reused_memory_agrees_with_the_crate() {
        let mut memory = vec![Block::default(); default_blocks()];
        let ours = hash_in("correct horse battery", &mut memory).unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(
            verify("correct horse battery", &ours),
            "the crate accepts ours"
        );
        let theirs = hash("correct horse battery").unwrap();
        // The same memory, used again, still verifies both ways.
        assert!(verify_in("correct horse battery", &theirs, &mut memory));
        assert!(verify_in("correct horse battery", &ours, &mut memory));
        assert!(!verify_in("wrong horse battery", &ours, &mut memory));
        assert!(!verify_in("anything", "not a phc string", &mut memory));
    }

    #[test]
    fn the_pool_hashes_and_verifies() {
        let workers = PasswordWorkers::start(2).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let stored = workers.hash("correct horse battery".into()).await.unwrap();
            let ok = workers.verify("correct horse battery".into(), Some(stored.clone()));
            let wrong = workers.verify("wrong horse battery".into(), Some(stored));
            let nobody = workers.verify("correct horse battery".into(), None);
            assert!(ok.await.unwrap());
            assert!(!wrong.await.unwrap());
            assert!(!nobody.await.unwrap());
        });
    }

    #[test]
    fn many_are_hashed_in_order_by_the_pool_and_by_threads() {
        let passwords: Vec<String> = (0..PasswordWorkers::BATCH + 3)
            .map(|i| format!("password number {i}"))
            .collect();
        let workers = PasswordWorkers::start(2).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let pooled = rt.block_on(workers.hash_many(passwords.clone())).unwrap();
        let borrowed: Vec<&str> = passwords.iter().map(String::as_str).collect();
        let threaded = hash_all(&borrowed, 3).unwrap();
        assert_eq!(
            (pooled.len(), threaded.len()),
            (passwords.len(), passwords.len())
        );
        for ((password, a), b) in passwords.iter().zip(&pooled).zip(&threaded) {
            assert!(verify(password, a) && verify(password, b), "{password}");
        }
        assert!(!verify(&passwords[0], &pooled[1]), "each its own");
        assert!(hash_all(&[], 4).unwrap().is_empty());
    }

    #[test]
    fn generated_passwords_differ() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_eq!(a.chars().count(), 24);
        assert_ne!(a, b);
    }
}
