// W4: count the primes up to two million with a sieve of Eratosthenes (CPU-bound, no tools).
interface SieveResult {
  limit: number;
  primes: number;
  largest: number;
}

function sieve(limit: number): SieveResult {
  const composite: Uint8Array = new Uint8Array(limit + 1);
  let primes: number = 0;
  let largest: number = 0;
  for (let n: number = 2; n <= limit; n++) {
    if (composite[n] !== 0) continue;
    primes++;
    largest = n;
    for (let multiple: number = n * n; multiple <= limit; multiple += n) {
      composite[multiple] = 1;
    }
  }
  return { limit, primes, largest };
}

const limit: number = 2_000_000;
return sieve(limit);
