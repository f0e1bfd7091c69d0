package snapsim.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Records and the oracle. A record at (split s, offset o) is a pure function of (seed, s, o),
 * exactly as the simulator's sim_record_make (sim/sim_job.c) with rt_mix3 (runtime/rt_prng.c):
 * unsigned 64-bit arithmetic, here on Java longs with >>> and Long.remainderUnsigned.
 */
public final class Gen {
    private Gen() {}

    public static final long OFFSET_MASK = (1L << 40) - 1;
    public static final long VALUE_MOD = 1000003L;

    /** rt_splitmix64: advances st[0] and returns the output. */
    static long splitmix64(long[] st) {
        st[0] += 0x9e3779b97f4a7c15L;
        long z = st[0];
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** rt_mix3. */
    public static long mix3(long seed, long a, long b) {
        long[] st = {seed ^ (a * 0x9e3779b97f4a7c15L)};
        long x = splitmix64(st);
        st[0] = x ^ (b * 0xc2b2ae3d27d4eb4fL);
        return splitmix64(st);
    }

    public static long key(long seed, int keys, int split, long offset) {
        return Long.remainderUnsigned(mix3(seed, split, offset), keys);
    }

    public static long value(long seed, int split, long offset) {
        return Long.remainderUnsigned(mix3(seed ^ 0x76616c7565L, split, offset), VALUE_MOD);
    }

    public static long id(int split, long offset) { return ((long) split << 40) | offset; }
    public static int splitOf(long id) { return (int) (id >>> 40); }
    public static long offsetOf(long id) { return id & OFFSET_MASK; }

    /** The expected state of one key: same fields as the agg operator's states. */
    public static final class KeyState {
        public long count, sum, xor;
        public final List<Long> top = new ArrayList<>(); // at most 3, descending
        public final TreeMap<Integer, Long> buckets = new TreeMap<>();

        public void add(long value, long sumMult) {
            count += 1;
            sum += sumMult * value;
            xor ^= value;
            top.add(value);
            top.sort((a, b) -> Long.compare(b, a));
            while (top.size() > 3) top.remove(top.size() - 1);
            buckets.merge((int) (value % 8), 1L, Long::sum);
        }

        /** Same JSON as the agg operator's output line, minus the key. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("count", count);
            m.put("sum", sum);
            m.put("xor", xor);
            m.put("top", new ArrayList<>(top));
            Map<String, Object> b = new java.util.LinkedHashMap<>();
            for (Map.Entry<Integer, Long> e : buckets.entrySet()) b.put(String.valueOf(e.getKey()), e.getValue());
            m.put("buckets", b);
            return m;
        }
    }

    /** The sum multiplier of one record: 1 old code, 3 new code, 0 not folded at all. */
    public interface Rule {
        long sumMult(int split, long offset, long key);
    }

    /** Folds records [from[s], until[s]) of every split. */
    public static TreeMap<Long, KeyState> fold(long seed, int keys, long[] from, long[] until, Rule rule) {
        TreeMap<Long, KeyState> out = new TreeMap<>();
        for (int s = 0; s < until.length; s++) {
            for (long o = from[s]; o < until[s]; o++) {
                long k = key(seed, keys, s, o);
                long m = rule == null ? 1 : rule.sumMult(s, o, k);
                if (m == 0) continue; // the rule says: not folded
                out.computeIfAbsent(k, x -> new KeyState()).add(value(seed, s, o), m);
            }
        }
        return out;
    }
}
