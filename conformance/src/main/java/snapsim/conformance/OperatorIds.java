package snapsim.conformance;

import java.nio.charset.StandardCharsets;

/**
 * OperatorID of an operator with an explicit uid: murmur3_128 (seed 0) of the uid's UTF-8 bytes, as
 * Flink's StreamGraphHasherV2.generateUserSpecifiedHash does with Guava's Hashing.murmur3_128(0)
 * and Hasher.putString(uid, UTF_8). Written here because Flink shades Guava under a
 * release-dependent package name.
 */
public final class OperatorIds {
    private OperatorIds() {}

    public static String fromUid(String uid) {
        byte[] h = murmur3x64_128(uid.getBytes(StandardCharsets.UTF_8), 0);
        StringBuilder b = new StringBuilder();
        for (byte x : h) b.append(String.format("%02x", x & 0xff));
        return b.toString();
    }

    private static long fmix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    private static long getLong(byte[] d, int i) {
        long v = 0;
        for (int j = 7; j >= 0; j--) v = (v << 8) | (d[i + j] & 0xffL);
        return v;
    }

    static byte[] murmur3x64_128(byte[] data, int seed) {
        final long c1 = 0x87c37b91114253d5L, c2 = 0x4cf5ad432745937fL;
        long h1 = seed & 0xffffffffL, h2 = seed & 0xffffffffL;
        int n = data.length / 16;
        for (int i = 0; i < n; i++) {
            long k1 = getLong(data, i * 16), k2 = getLong(data, i * 16 + 8);
            k1 *= c1; k1 = Long.rotateLeft(k1, 31); k1 *= c2; h1 ^= k1;
            h1 = Long.rotateLeft(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
            k2 *= c2; k2 = Long.rotateLeft(k2, 33); k2 *= c1; h2 ^= k2;
            h2 = Long.rotateLeft(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
        }
        long k1 = 0, k2 = 0;
        int t = n * 16, rem = data.length - t;
        for (int j = rem - 1; j >= 8; j--) k2 ^= (data[t + j] & 0xffL) << ((j - 8) * 8);
        for (int j = Math.min(rem, 8) - 1; j >= 0; j--) k1 ^= (data[t + j] & 0xffL) << (j * 8);
        if (rem > 8) { k2 *= c2; k2 = Long.rotateLeft(k2, 33); k2 *= c1; h2 ^= k2; }
        if (rem > 0) { k1 *= c1; k1 = Long.rotateLeft(k1, 31); k1 *= c2; h1 ^= k1; }
        h1 ^= data.length; h2 ^= data.length;
        h1 += h2; h2 += h1;
        h1 = fmix(h1); h2 = fmix(h2);
        h1 += h2; h2 += h1;
        byte[] out = new byte[16];
        for (int i = 0; i < 8; i++) out[i] = (byte) (h1 >>> (8 * i));
        for (int i = 0; i < 8; i++) out[8 + i] = (byte) (h2 >>> (8 * i));
        return out;
    }
}
