import { io } from 'socket.io-client';
import { config } from './config';

export const socket = io(config.api.socketUrl, {
  path: '/socket.io/',
  transports: ['websocket', 'polling'],
  timeout: 20000,
  reconnection: true,
  reconnectionAttempts: 5,
  reconnectionDelay: 1000,
});
