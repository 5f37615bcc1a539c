import mongoose from 'mongoose';
export const m = mongoose;
