package snapsim.conformance;

/**
 * ValueState "stats" of the agg operator (a Flink POJO: PojoSerializer, schema evolution).
 * src/variants/ holds other layouts of this same class name; Agg only calls the methods below,
 * which every layout has.
 */
public class Stats {
    public long count;
    public long sum;
    public long xor;

    public Stats() {}

    public void add(long value, long sumMult) {
        count += 1;
        sum += sumMult * value;
        xor ^= value;
    }

    public void json(StringBuilder b) {
        b.append("\"count\":").append(count).append(",\"sum\":").append(sum).append(",\"xor\":").append(xor);
    }

    public static String layout() { return "count,sum,xor"; }
}
