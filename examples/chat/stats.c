/* stats.c - the live statistics page chat serves at /stats: it reads the
 * server's own /metrics (Prometheus text, chat --metrics) every second and
 * draws connections, message and byte rates, closes, refusals and the
 * handler and send-queue quantiles as small charts, with no script from
 * elsewhere. Quantiles come from the buckets' growth since the previous
 * read, as histogram_quantile does over a range. window.wsxStats holds
 * the latest values for scripts (and the browser test). */
#include "stats.h"

#include <string.h>

static const char page[] =
    "<!doctype html><meta charset=utf-8><title>wsx stats</title>\n"
    "<style>body{font:14px system-ui,sans-serif;margin:1em}.c{display:inline-block;margin:.4em;padding:.4em;border:1px solid #ccc}canvas{display:block}b{font-size:1.2em}</style>\n"
    "<h1>wsx stats</h1><p id=st>reading /metrics</p><div id=charts></div>\n"
    "<script>\n"
    "const S=[['open','connections open','wsx_connections_open'],\n"
    "['rx','messages received /s','wsx_messages_received_total',1],\n"
    "['tx','messages sent /s','wsx_messages_sent_total',1],\n"
    "['bin','bytes received /s','wsx_bytes_received_total',1],\n"
    "['bout','bytes sent /s','wsx_bytes_sent_total',1],\n"
    "['closes','closes /s','wsx_closes_total',1],\n"
    "['refused','handshakes refused /s','wsx_handshakes_refused_total',1],\n"
    "['p50','handler p50 µs','wsx_message_handler_seconds',.5],\n"
    "['p99','handler p99 µs','wsx_message_handler_seconds',.99],\n"
    "['q99','send-queue wait p99 µs','wsx_send_queue_wait_seconds',.99]];\n"
    "const st=window.wsxStats={latest:{},history:{},scrapes:0};\n"
    "let prev=null,pt=0;\n"
    "for(const[k,t]of S){const d=document.createElement('div');d.className='c';\n"
    "d.innerHTML=`${t}: <b id=v-${k}>-</b><canvas id=c-${k} width=260 height=70></canvas>`;\n"
    "charts.append(d);st.history[k]=[];}\n"
    "function parse(txt){const v={},b={};\n"
    "for(const l of txt.split('\\n')){if(!l||l[0]=='#')continue;\n"
    "const m=l.match(/^(\\w+)(\\{[^}]*\\})? (\\S+)$/);if(!m)continue;\n"
    "const n=m[1],x=+m[3],le=m[2]&&m[2].match(/le=\"([^\"]+)\"/);\n"
    "if(le&&n.endsWith('_bucket')){const h=b[n.slice(0,-7)]||(b[n.slice(0,-7)]={});h[le[1]]=(h[le[1]]||0)+x;}\n"
    "else v[n]=(v[n]||0)+x;}return{v,b};}\n"
    "function quant(q,a,z){const les=Object.keys(a).sort((x,y)=>+x-+y);\n"
    "const tot=a['+Inf']-((z&&z['+Inf'])||0);if(!(tot>0))return 0;\n"
    "let lo=0,below=0;for(const le of les){const c=a[le]-((z&&z[le])||0);\n"
    "if(c>=q*tot){const hi=le=='+Inf'?lo:+le;return 1e6*(lo+(hi-lo)*(q*tot-below)/Math.max(c-below,1));}\n"
    "below=c;if(le!='+Inf')lo=+le;}return 1e6*lo;}\n"
    "function draw(k){const h=st.history[k],c=document.getElementById('c-'+k),g=c.getContext('2d');\n"
    "g.clearRect(0,0,c.width,c.height);const mx=Math.max(1e-9,...h);g.fillStyle='#2a6';g.strokeStyle='#2a6';g.lineWidth=2;g.beginPath();\n"
    "const w=c.width/Math.max(h.length-1,1);h.forEach((y,i)=>{const X=i*w,Y=c.height-2-(c.height-4)*y/mx;i?g.lineTo(X,Y):g.moveTo(X,Y);});g.stroke();}\n"
    "async function tick(){try{const r=await fetch('/metrics');\n"
    "if(!r.ok)throw new Error('HTTP '+r.status+' (start chat with --metrics)');\n"
    "const cur=parse(await r.text()),t=performance.now()/1e3;\n"
    "if(prev){const dt=t-pt;for(const[k,,n,q]of S){let y;\n"
    "if(n in cur.b)y=quant(q,cur.b[n],prev.b[n]);\n"
    "else y=q?(cur.v[n]-(prev.v[n]||0))/dt:cur.v[n];\n"
    "y=Math.max(0,y||0);st.latest[k]=y;const h=st.history[k];h.push(y);if(h.length>60)h.shift();\n"
    "document.getElementById('v-'+k).textContent=y%1==0||y>=10?Math.round(y):y.toFixed(2);draw(k);}}\n"
    "prev=cur;pt=t;st.scrapes++;document.getElementById('st').textContent='updated '+new Date().toLocaleTimeString();\n"
    "}catch(e){document.getElementById('st').textContent=''+e;}}\n"
    "tick();setInterval(tick,1000);\n"
    "</script>\n";

bool chat_stats_http(wsx_conn *c, const wsx_http_request *req)
{
    if (req->target_len != 6 || memcmp(req->target, "/stats", 6))
        return false;
    wsx_http_respond(c, 200, "text/html; charset=utf-8", NULL, page,
                     sizeof page - 1);
    return true;
}
