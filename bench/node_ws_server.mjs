// The reference a user might pick instead: Node's `ws`, with the guide's echo and chat.
// Usage: node bench/node_ws_server.mjs PORT. Written as its documentation's examples are:
// one send per client in a broadcast, permessage-deflate off (its default).
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? '8000');
const server = createServer((_request, response) => {
  response.writeHead(404).end();
});
const echo = new WebSocketServer({ noServer: true });
const chat = new WebSocketServer({ noServer: true, clientTracking: true });

echo.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    socket.send(isBinary ? data : `Message text was: ${data}`);
  });
});

chat.on('connection', (socket, clientId) => {
  socket.on('message', (data) => {
    socket.send(`You wrote: ${data}`);
    const line = `Client #${clientId} says: ${data}`;
    for (const client of chat.clients) client.send(line);
  });
  socket.on('close', () => {
    const line = `Client #${clientId} left the chat`;
    for (const client of chat.clients) client.send(line);
  });
});

server.on('upgrade', (request, socket, head) => {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const chatMatch = path.match(/^\/ws\/(\d+)$/);
  if (path === '/ws') {
    echo.handleUpgrade(request, socket, head, (ws) => echo.emit('connection', ws));
  } else if (chatMatch) {
    chat.handleUpgrade(request, socket, head, (ws) => chat.emit('connection', ws, chatMatch[1]));
  } else {
    socket.destroy();
  }
});
server.listen(port, '127.0.0.1');
