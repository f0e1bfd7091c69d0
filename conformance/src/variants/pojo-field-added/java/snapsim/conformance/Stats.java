package snapsim.conformance;

/** Job variant "pojo-field-added": Stats gains a field (PojoSerializer: compatible after migration). */
public class Stats {
    public long count;
    public long sum;
    public long xor;
    /** New field: records this code version folded (0 in migrated entries). */
    public long touched;

    public Stats() {}

    public void add(long value, long sumMult) {
        count += 1;
        sum += sumMult * value;
        xor ^= value;
        touched += 1;
    }

    public void json(StringBuilder b) {
        b.append("\"count\":").append(count).append(",\"sum\":").append(sum).append(",\"xor\":").append(xor)
                .append(",\"touched\":").append(touched);
    }

    public static String layout() { return "count,sum,xor,touched"; }
}
