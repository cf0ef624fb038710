package com.example.gateway;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Token bucket per client, refilled on demand. */
public final class RateLimiter {
    private final long capacity;
    private final long refillPerSecond;
    private final Clock clock;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    public RateLimiter(long capacity, long refillPerSecond, Clock clock) {
        this.capacity = capacity;
        this.refillPerSecond = refillPerSecond;
        this.clock = clock;
    }

    public boolean tryAcquire(String clientId) {
        Bucket bucket = buckets.computeIfAbsent(clientId, id -> new Bucket(capacity, clock.millis()));
        synchronized (bucket) {
            refill(bucket);
            if (bucket.tokens.get() > 0) {
                bucket.tokens.decrementAndGet();
                return true;
            }
            return false;
        }
    }

    private void refill(Bucket bucket) {
        long now = clock.millis();
        long elapsed = now - bucket.lastRefill;
        long add = elapsed * refillPerSecond / 1000;
        if (add > 0) {
            bucket.tokens.set(Math.min(capacity, bucket.tokens.get() + add));
            bucket.lastRefill = now;
        }
    }

    private static final class Bucket {
        final AtomicLong tokens;
        long lastRefill;

        Bucket(long tokens, long now) {
            this.tokens = new AtomicLong(tokens);
            this.lastRefill = now;
        }
    }
}
