package snapsim.conformance;

import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.StateObject;

/**
 * `inspect`: a snapshot's _metadata as Flink's own loader (Checkpoints.loadCheckpointMetadata)
 * sees it: the ground truth for snapsim's C parser. Handles are walked generically through their
 * public getters, so the same code serves every release.
 */
public final class Inspect {
    private Inspect() {}

    static final String[] KNOWN_UIDS = {"src", "agg", "sink", "reshape", "agg-v2"};

    /** Every file a snapshot's handles name, as local absolute paths (inlined bytes name none). */
    public static java.util.SortedSet<String> files(String dir) throws Exception {
        java.util.SortedSet<String> out = new java.util.TreeSet<>();
        collect(inspect(dir), out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void collect(Object o, java.util.SortedSet<String> out) {
        if (o instanceof Map) {
            Map<String, Object> m = (Map<String, Object>) o;
            Object f = m.get("file");
            if (f instanceof String) out.add(new File(((String) f).replaceFirst("^file:", "")).getAbsolutePath());
            for (Object v : m.values()) collect(v, out);
        } else if (o instanceof List) {
            for (Object v : (List<Object>) o) collect(v, out);
        }
    }

    public static Map<String, Object> inspect(String dir) throws Exception {
        Map<String, Object> res = new LinkedHashMap<>();
        File mdFile = new File(dir, "_metadata");
        res.put("path", dir);
        try (InputStream in = Files.newInputStream(mdFile.toPath())) {
            DataInputStream d = new DataInputStream(in);
            res.put("magic", String.format("0x%08x", d.readInt()));
            res.put("metadata_version", d.readInt());
        }
        res.put("metadata_bytes", mdFile.length());
        CheckpointMetadata md = Runner.loadMetadata(dir);
        res.put("checkpoint_id", md.getCheckpointId());
        Object props = call(md, "getCheckpointProperties");
        if (props != null) {
            Map<String, Object> p = new LinkedHashMap<>();
            Object type = call(props, "getCheckpointType");
            p.put("type", String.valueOf(type));
            p.put("is_savepoint", call(props, "isSavepoint"));
            if (type != null) {
                Object fmt = call(type, "getFormatType");
                if (fmt != null) p.put("format_type", String.valueOf(fmt));
                p.put("sharing_files_strategy", String.valueOf(call(type, "getSharingFilesStrategy")));
            }
            p.put("discard_subsumed", call(props, "discardOnSubsumed"));
            res.put("properties", p);
        }
        Map<String, String> uidById = new LinkedHashMap<>();
        for (String uid : KNOWN_UIDS) uidById.put(OperatorIds.fromUid(uid), uid);
        List<Object> ops = new ArrayList<>();
        int channel = 0;
        Map<String, Integer> handleClasses = new TreeMap<>();
        for (OperatorState os : md.getOperatorStates()) {
            Map<String, Object> op = new LinkedHashMap<>();
            String id = os.getOperatorID().toHexString();
            op.put("operator_id", id);
            Object uid = call(os, "getOperatorUid");
            Object name = call(os, "getOperatorName");
            op.put("uid_stored", uid instanceof java.util.Optional ? ((java.util.Optional<?>) uid).orElse(null) : uid);
            op.put("name_stored", name instanceof java.util.Optional ? ((java.util.Optional<?>) name).orElse(null) : name);
            op.put("uid_guess", uidById.get(id));
            op.put("parallelism", os.getParallelism());
            op.put("max_parallelism", os.getMaxParallelism());
            op.put("coordinator_state", os.getCoordinatorState() == null ? null : handle(os.getCoordinatorState(), handleClasses));
            List<Object> subs = new ArrayList<>();
            for (int i = 0; i < os.getParallelism(); i++) {
                OperatorSubtaskState st = os.getState(i);
                if (st == null || !st.hasState()) continue;
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("subtask", i);
                s.put("managed_keyed", handles(st.getManagedKeyedState(), handleClasses));
                s.put("raw_keyed", handles(st.getRawKeyedState(), handleClasses));
                s.put("managed_operator", handles(st.getManagedOperatorState(), handleClasses));
                s.put("raw_operator", handles(st.getRawOperatorState(), handleClasses));
                s.put("input_channel", handles(st.getInputChannelState(), handleClasses));
                s.put("result_subpartition", handles(st.getResultSubpartitionState(), handleClasses));
                channel += st.getInputChannelState().size() + st.getResultSubpartitionState().size();
                subs.add(s);
            }
            op.put("subtasks", subs);
            ops.add(op);
        }
        res.put("operators", ops);
        res.put("channel_state_handles", channel);
        res.put("handle_classes", handleClasses);
        return res;
    }

    static List<Object> handles(Collection<? extends StateObject> c, Map<String, Integer> classes) {
        List<Object> l = new ArrayList<>();
        for (StateObject h : c) l.add(handle(h, classes));
        return l;
    }

    static Map<String, Object> handle(Object h, Map<String, Integer> classes) {
        return walk(h, classes, new IdentityHashMap<>(), 0);
    }

    /** Getters never followed (back references, huge or derived values). */
    static boolean skip(String name) {
        return name.equals("getClass") || name.equals("getStateSize") || name.equals("getCheckpointedSize")
                || name.equals("asBytesIfInMemory") || name.equals("openInputStream") || name.equals("getData")
                || name.equals("getFileSystem") || name.equals("getIntersection") || name.equals("getStreamStateHandleID");
    }

    static Map<String, Object> walk(Object h, Map<String, Integer> classes, IdentityHashMap<Object, Boolean> seen, int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        String cls = h.getClass().getName();
        m.put("class", cls);
        if (h instanceof StateObject) {
            classes.merge(cls.substring(cls.lastIndexOf('.') + 1), 1, Integer::sum);
            try {
                m.put("state_size", ((StateObject) h).getStateSize());
            } catch (Throwable t) {
                // some handles do not know their size
            }
        }
        if (seen.put(h, Boolean.TRUE) != null || depth > 8) return m;
        String simple = h.getClass().getSimpleName();
        // files: absolute, relative (re-anchored to the snapshot directory) or inlined bytes
        Object filePath = call(h, "getFilePath");
        if (filePath != null) {
            m.put("file", filePath.toString());
            String local = filePath.toString().replaceFirst("^file:", "");
            m.put("exists", new File(local).exists());
        }
        Object rel = call(h, "getRelativePath");
        if (rel != null) m.put("relative_path", rel.toString());
        if (simple.equals("ByteStreamStateHandle")) {
            m.put("inline_bytes", ((StateObject) h).getStateSize());
            m.put("handle_name", String.valueOf(call(h, "getHandleName")));
        }
        Object kgr = call(h, "getKeyGroupRange");
        if (kgr != null) m.put("key_groups", kgr.toString());
        Object info = call(h, "getInfo");
        if (info != null) m.put("info", info.toString());
        Object lp = call(h, "getLocalPath");
        if (lp != null) m.put("local_path", lp.toString());
        for (String g : new String[] {"getCheckpointId", "getBackendIdentifier", "getStateNameToPartitionOffsets", "getOffsets"}) {
            Object v = call(h, g);
            if (v != null && !(v instanceof StateObject)) m.put(g.substring(3, 4).toLowerCase() + g.substring(4), summarize(v));
        }
        for (Method meth : h.getClass().getMethods()) {
            if (meth.getParameterCount() != 0 || !meth.getName().startsWith("get") || skip(meth.getName())
                    || Modifier.isStatic(meth.getModifiers())) continue;
            Class<?> rt = meth.getReturnType();
            boolean nested = StateObject.class.isAssignableFrom(rt) || Collection.class.isAssignableFrom(rt)
                    || Map.class.isAssignableFrom(rt) || rt.getSimpleName().equals("HandleAndLocalPath");
            if (!nested) continue;
            Object v;
            try {
                v = meth.invoke(h);
            } catch (Throwable t) {
                continue;
            }
            Object w = nest(v, classes, seen, depth);
            if (w != null) m.put(prop(meth.getName()), w);
        }
        return m;
    }

    static Object nest(Object v, Map<String, Integer> classes, IdentityHashMap<Object, Boolean> seen, int depth) {
        if (v == null) return null;
        if (v instanceof StateObject || v.getClass().getSimpleName().equals("HandleAndLocalPath")) {
            return walk(v, classes, seen, depth + 1);
        }
        if (v instanceof Collection) {
            List<Object> l = new ArrayList<>();
            for (Object x : (Collection<?>) v) {
                Object w = nest(x, classes, seen, depth);
                if (w != null) l.add(w);
            }
            return l.isEmpty() ? null : l;
        }
        if (v instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                Object w = nest(e.getValue(), classes, seen, depth);
                if (w != null) out.put(String.valueOf(e.getKey()), w);
            }
            return out.isEmpty() ? null : out;
        }
        return null;
    }

    static Object summarize(Object v) {
        if (v instanceof Number || v instanceof Boolean || v instanceof String) return v;
        if (v instanceof long[]) return v;
        if (v instanceof Map) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) m.put(String.valueOf(e.getKey()), summarize(e.getValue()));
            return m;
        }
        Object offs = call(v, "getOffsets");
        if (offs instanceof long[]) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("offsets", offs);
            m.put("mode", String.valueOf(call(v, "getDistributionMode")));
            return m;
        }
        return v.toString();
    }

    static String prop(String getter) {
        String s = getter.substring(3);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0) b.append('_');
                b.append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    static Object call(Object o, String name) {
        try {
            Method m = o.getClass().getMethod(name);
            return m.invoke(o);
        } catch (Throwable t) {
            return null;
        }
    }
}
